package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// neverShuttingDown is the /healthz of the tests' demo app: a server that
// always takes requests. A test that shuts down builds its own (demoOf).
func neverShuttingDown() bool { return false }

// replayTranscripts replays every testdata/transcripts/*.txtar, as
// transcript.Run does, on the server newServer makes. Two families need a
// server in a state no request can bring about:
//
//   - over-cap-*: the server runs with a cap of one connection, and the
//     test holds that slot with a kept-alive connection first;
//   - shutdown-*: the server begins its shutdown the moment the request
//     arrives, before the app runs.
func replayTranscripts(t *testing.T, newServer func() *Server) {
	all, err := transcript.LoadDir(filepath.Join("testdata", "transcripts"))
	if err != nil {
		t.Fatal(err)
	}
	plain := newServer()
	plainAddr := transcript.Start(t, plain.Serve)
	for _, tr := range all {
		t.Run(tr.Name, func(t *testing.T) {
			addr := serverFor(t, tr, plainAddr, newServer)
			got, err := transcript.Replay(addr, tr)
			if err != nil {
				t.Errorf("%s: %v", tr.Path, err)
			}
			if transcript.Updating() {
				saveTranscript(t, tr, got)
				return
			}
			transcript.Compare(t, tr, got, "127.0.0.1:8082")
		})
	}
}

// The name prefixes of the transcripts that need a server of their own.
const overCap, duringShutdown = "over-cap-", "shutdown-"

// serverFor is where to replay tr: plainAddr, or for the two families
// above a server of its own from newServer, put in the state they need.
func serverFor(t *testing.T, tr *transcript.Transcript, plainAddr string, newServer func() *Server) string {
	switch {
	case strings.HasPrefix(tr.Name, overCap):
		return fullServer(t, newServer())
	case strings.HasPrefix(tr.Name, duringShutdown):
		return shuttingDownServer(t, newServer())
	}
	return plainAddr
}

// needsItsOwnServer reports whether tr can only be replayed by replayTranscripts.
func needsItsOwnServer(tr *transcript.Transcript) bool {
	return strings.HasPrefix(tr.Name, overCap) || strings.HasPrefix(tr.Name, duringShutdown)
}

// fullServer serves with a cap of one connection and fills it, and the
// probe's reserve, with requests in progress (held by the app until the
// test ends): a server where every connection is busy, so that the next
// one is refused before its request is read. (An idle connection would
// not do: the next connection would close it and take its slot.)
func fullServer(t *testing.T, srv *Server) string {
	entered, release := make(chan struct{}), make(chan struct{})
	srv.App = heldOnRequest(srv.App, entered, release)
	addr := transcript.Start(t, func(ln net.Listener) error { return srv.Serve(limitConns(ln, 1, srv.evictIdle)) })
	t.Cleanup(func() { close(release) })
	hold(t, addr, "/sized", entered)
	for range probeReserve {
		hold(t, addr, "/healthz", entered) // from loopback, as the probe would
	}
	return addr // the held connections stay open until the test ends
}

// heldOnRequest is inner, except that a request carrying an X-Hold field waits
// in the app (after a value on entered) until release is closed.
func heldOnRequest(inner App, entered chan<- struct{}, release <-chan struct{}) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		if environ["HTTP_X_HOLD"] != nil {
			entered <- struct{}{}
			<-release
		}
		return inner(environ, startResponse)
	}
}

// hold opens a connection to a server whose app is heldOnRequest(…, entered, …)
// and leaves a GET of path held in the app: a connection with a request in
// progress.
func hold(t *testing.T, addr, path string, entered <-chan struct{}) net.Conn {
	t.Helper()
	conn := transcript.Dial(t, addr)
	io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\nX-Hold: yes\r\n\r\n")
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatalf("GET %s with X-Hold did not reach the app within 10s", path)
	}
	return conn
}

// request sends one request on conn and reads its whole response; it
// returns the status line.
func request(t *testing.T, conn net.Conn, req string) string {
	t.Helper()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	length := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	io.ReadFull(br, make([]byte, length))
	return status
}

// shuttingDownServer serves one connection whose request starts the
// shutdown: the app sees the server draining before it answers.
func shuttingDownServer(t *testing.T, srv *Server) string {
	inner := srv.App // step08: its /healthz already asks srv (pythonServer)
	shutdown := make(chan error, 1)
	srv.App = func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		go func() { shutdown <- srv.Shutdown(context.Background()) }()
		for !srv.ShuttingDown() {
			time.Sleep(time.Millisecond) // Shutdown only has to take a lock
		}
		return inner(environ, startResponse)
	}
	t.Cleanup(func() {
		select {
		case err := <-shutdown:
			if err != nil {
				t.Errorf("Shutdown = %v, want nil once the last response is out", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Shutdown did not return after the last response went out")
		}
	})
	return transcript.Start(t, srv.Serve)
}

// saveTranscript writes got into the golden, as transcript.Run does with -update.
func saveTranscript(t *testing.T, tr *transcript.Transcript, got [][]byte) {
	for i := range tr.Exchanges {
		tr.Exchanges[i].Response = []byte{}
		if i < len(got) {
			tr.Exchanges[i].Response = append(tr.Exchanges[i].Response, got[i]...)
		}
	}
	if err := os.WriteFile(tr.Path, tr.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("updated %s", tr.Path)
}

// TestAddressFromTheEnvironment: parseArgs listens where -addr says when
// it is given, whatever other flags come with it, else at $ADDR, else at
// :$PORT. A variable set to nothing counts as unset.
func TestAddressFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name string
		args string
		env  map[string]string
		want string
	}{
		{"nothing set", "", nil, ":8082"},
		{"PORT", "", map[string]string{"PORT": "9000"}, ":9000"},
		{"ADDR", "", map[string]string{"ADDR": "127.0.0.1:9001"}, "127.0.0.1:9001"},
		{"ADDR before PORT", "", map[string]string{"ADDR": "127.0.0.1:9001", "PORT": "9000"}, "127.0.0.1:9001"},
		{"ADDR before a PORT that cannot work", "", map[string]string{"ADDR": "127.0.0.1:9001", "PORT": "abc"}, "127.0.0.1:9001"},
		{"an empty ADDR is unset", "", map[string]string{"ADDR": "", "PORT": "9000"}, ":9000"},
		{"other flags are not -addr", "-quiet -max-conns 10", map[string]string{"ADDR": "127.0.0.1:9001"}, "127.0.0.1:9001"},
		{"other flags are not -addr, PORT", "-max-conns 10 -quiet", map[string]string{"PORT": "9000"}, ":9000"},
		{"the flag wins", "-addr 127.0.0.1:9002", map[string]string{"ADDR": "127.0.0.1:9001", "PORT": "9000"}, "127.0.0.1:9002"},
		{"the flag wins among flags before and after it", "-quiet -max-conns 10 -addr 127.0.0.1:9002 -idle-timeout 5s -debug", map[string]string{"ADDR": "127.0.0.1:9001", "PORT": "9000"}, "127.0.0.1:9002"},
		{"the flag wins with a flag after it", "-addr 127.0.0.1:9002 -quiet", map[string]string{"PORT": "9000"}, "127.0.0.1:9002"},
		{"the flag wins with a flag before it", "-body-timeout 1m -addr 127.0.0.1:9002", map[string]string{"ADDR": "127.0.0.1:9001"}, "127.0.0.1:9002"},
		{"the flag wins even set to the default", "-addr :8082", map[string]string{"PORT": "9000"}, ":8082"},
		{"the flag wins over a PORT that cannot work", "-addr 127.0.0.1:9002", map[string]string{"PORT": "http"}, "127.0.0.1:9002"},
		{"port 0 is any free port", "-addr 127.0.0.1:0", nil, "127.0.0.1:0"},
		{"port 0 in ADDR too", "", map[string]string{"ADDR": "127.0.0.1:0"}, "127.0.0.1:0"},
		{"the highest port", "", map[string]string{"PORT": "65535"}, ":65535"},
		{"a host name", "-addr localhost:9002", nil, "localhost:9002"},
		{"an IPv6 host", "", map[string]string{"ADDR": "[::1]:9001"}, "[::1]:9001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut strings.Builder
			s, err := parseArgs(strings.Fields(tt.args), &errOut, func(k string) string { return tt.env[k] })
			if err != nil || s.addr != tt.want {
				t.Errorf("args %q, env %v: address %q, %v (%q), want %q", tt.args, tt.env, s.addr, err, errOut.String(), tt.want)
			}
		})
	}
}

// TestSettingsThatCannotWork: a value the flag package takes but that
// cannot work gets one line naming the flag or variable and what it takes,
// and parseArgs returns errUsage, which main turns into exit 2.
func TestSettingsThatCannotWork(t *testing.T) {
	const (
		positive = ": it takes a duration above 0, such as "
		addrForm = ": it takes host:port with a numeric port, such as :8082 (port 0: any free one)"
		portForm = ": it takes a port number from 1 to 65535, such as 8082"
	)
	tests := []struct {
		args string
		env  map[string]string
		want string
	}{
		{"-header-timeout -1s", nil, "invalid -header-timeout -1s" + positive + "10s"},
		{"-header-timeout 0", nil, "invalid -header-timeout 0s" + positive + "10s"},
		{"-body-timeout -1s", nil, "invalid -body-timeout -1s" + positive + "30s"},
		{"-body-timeout 0", nil, "invalid -body-timeout 0s" + positive + "30s"},
		{"-idle-timeout -1s", nil, "invalid -idle-timeout -1s" + positive + "30s"},
		{"-idle-timeout 0", nil, "invalid -idle-timeout 0s" + positive + "30s"},
		{"-write-timeout -1s", nil, "invalid -write-timeout -1s" + positive + "30s"},
		{"-write-timeout 0", nil, "invalid -write-timeout 0s" + positive + "30s"},
		{"-shutdown-timeout -1s", nil, "invalid -shutdown-timeout -1s: it takes a duration, 0 to cut requests in flight at once, such as 5s"},
		{"-max-conns -1", nil, "invalid -max-conns -1: it takes a number of connections, 0 for no cap, such as 256"},
		{"-addr=", nil, `invalid -addr ""` + addrForm},
		{"-addr 127.0.0.1:http", nil, `invalid -addr "127.0.0.1:http"` + addrForm},
		{"-addr 127.0.0.1:", nil, `invalid -addr "127.0.0.1:"` + addrForm},
		{"-addr=", map[string]string{"ADDR": "127.0.0.1:9001"}, `invalid -addr ""` + addrForm}, // given, even empty
		{"", map[string]string{"ADDR": "127.0.0.1:ssh"}, `invalid ADDR "127.0.0.1:ssh"` + addrForm},
		{"", map[string]string{"ADDR": ":http"}, `invalid ADDR ":http"` + addrForm},
		{"", map[string]string{"ADDR": "127.0.0.1:"}, `invalid ADDR "127.0.0.1:"` + addrForm},
		{"", map[string]string{"PORT": "http"}, `invalid PORT "http"` + portForm},
		{"", map[string]string{"PORT": "abc"}, `invalid PORT "abc"` + portForm},
		{"", map[string]string{"PORT": "0"}, `invalid PORT "0"` + portForm},
		{"", map[string]string{"PORT": "99999"}, `invalid PORT "99999"` + portForm},
		{"", map[string]string{"PORT": "-1"}, `invalid PORT "-1"` + portForm},
		{"", map[string]string{"PORT": "127.0.0.1:9000"}, `invalid PORT "127.0.0.1:9000"` + portForm},
		{"-quiet -max-conns 10", map[string]string{"PORT": "http"}, `invalid PORT "http"` + portForm},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var errOut strings.Builder
			_, err := parseArgs(strings.Fields(tt.args), &errOut, func(k string) string { return tt.env[k] })
			if !errors.Is(err, errUsage) || errOut.String() != tt.want+"\n" {
				t.Errorf("args %q, env %v: %v, printed %q; want errUsage (exit 2) and the one line %q", tt.args, tt.env, err, errOut.String(), tt.want)
			}
		})
	}
}

// TestZeroSettingsThatMeanSomething: the two settings where 0 is not a
// mistake take it, as the README's flag table says.
func TestZeroSettingsThatMeanSomething(t *testing.T) {
	s, err := parseArgs([]string{"-max-conns", "0", "-shutdown-timeout", "0"}, io.Discard, func(string) string { return "" })
	if err != nil || s.maxConns != 0 || s.shutdownTimeout != 0 {
		t.Errorf("-max-conns 0 -shutdown-timeout 0: max-conns %d, shutdown-timeout %v, %v; want 0, 0, nil", s.maxConns, s.shutdownTimeout, err)
	}
}

// TestMaxConnsZeroIsNoCap: with -max-conns 0, more clients than the
// default cap are all served and all kept alive; none is refused or
// closed to make room.
func TestMaxConnsZeroIsNoCap(t *testing.T) {
	const clients = 300 // more than the default cap of 256
	line := transcript.StartMain(t, run, "-addr", "127.0.0.1:0", "-quiet", "-max-conns", "0")
	url := strings.TrimPrefix(strings.TrimPrefix(line, "step08-python serving on "), "http://")
	addr := strings.TrimSuffix(url, "/")
	conns := make([]net.Conn, clients)
	for i := range conns {
		conns[i] = transcript.Dial(t, addr)
		if status := request(t, conns[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); status != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("client %d of %d with -max-conns 0 got %q, want HTTP/1.1 200 OK", i+1, clients, status)
		}
	}
	for i, conn := range conns { // each one's second request, on the same connection
		if status := request(t, conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); status != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("client %d of %d, kept alive with -max-conns 0, got %q on its second request, want HTTP/1.1 200 OK", i+1, clients, status)
		}
	}
}

func TestHealthcheckProbe(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	_, port, _ := net.SplitHostPort(addr)
	if err := probe(":" + port); err != nil {
		t.Errorf("probe(:%s) of a healthy server = %v, want nil", port, err)
	}
	// A 503 (a server shutting down) is unhealthy too.
	draining := withMiddleware(addShippingRoutes(routes(), func() bool { return true }).App, nil, false, fixedID)
	unhealthy := transcript.Start(t, (&Server{App: draining, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)
	if err := probe(unhealthy); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("probe of a server answering 503 = %v, want an error naming the 503", err)
	}
	if err := probe(closedPort(t)); err == nil {
		t.Errorf("probe of a closed port = nil, want an error")
	}
}

// closedPort is an address nothing listens on: a port we just had and closed.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return ln.Addr().String()
}

func TestRunHealthcheckFlag(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	if err := run(context.Background(), []string{"-healthcheck", "-addr", addr}, io.Discard); err != nil {
		t.Errorf("run -healthcheck against a healthy server = %v, want nil (exit 0)", err)
	}
}

// Each read timeout covers its own part of a request: the header timeout
// the head (and a new connection's wait for it), the body timeout the
// whole body, from the end of the head. The timeout a row is about is
// 200ms and the other one an hour, so only the deadline under test can
// fire; a client "stalls" by pausing 400ms, longer than the short one.
func TestHeaderAndBodyTimeouts(t *testing.T) {
	const short, pause = 200 * time.Millisecond, 400 * time.Millisecond
	const timedOut, ok = "HTTP/1.1 408 Request Timeout", "HTTP/1.1 200 OK"
	headTimed := transcript.Start(t, (&Server{App: demo, Errors: io.Discard, HeaderTimeout: short, BodyTimeout: time.Hour, IdleTimeout: time.Hour}).Serve)
	bodyTimed := transcript.Start(t, (&Server{App: demo, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: short, IdleTimeout: time.Hour}).Serve)
	const post = "POST /environ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
	tests := []struct {
		name  string
		addr  string
		parts []string // sent one after another, with a pause between two
		want  []string // the status lines that come back
	}{
		{"a connection that sends nothing: the header timeout", headTimed, nil, []string{timedOut}},
		{"a head that stalls: the header timeout", headTimed, []string{"GET / HTTP/1.1\r\nHost: x\r\n"}, []string{timedOut}},
		{"a kept-alive connection's second head that stalls: the header timeout", headTimed,
			[]string{"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HT"}, []string{ok, timedOut}},
		{"a body that stalls: the body timeout", bodyTimed, []string{post + "hel"}, []string{timedOut}},
		{"a body that comes after the header timeout: answered", headTimed, []string{post, "hello"}, []string{ok}},
		{"a head that takes longer than the body timeout: answered", bodyTimed,
			[]string{"POST /environ HTTP/1.1\r\nHost: x\r\n", "Content-Length: 5\r\nConnection: close\r\n\r\nhello"}, []string{ok}},
	}
	statusLine := regexp.MustCompile(`HTTP/1\.1 \d{3} [^\r]*`) // "Hello, World!" ends without a line end
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := transcript.Dial(t, tt.addr)
			for i, part := range tt.parts {
				if i > 0 {
					time.Sleep(pause)
				}
				io.WriteString(conn, part)
			}
			all, err := io.ReadAll(conn) // every row ends with the server closing
			if got := statusLine.FindAllString(string(all), -1); !slices.Equal(got, tt.want) {
				t.Errorf("got status lines %q (%v), want %q; all:\n%s", got, err, tt.want, all)
			}
		})
	}
}

func TestOverCapSlotIsFreedWhenAConnectionCloses(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{App: heldOnRequest(demo, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	addr := transcript.Start(t, func(ln net.Listener) error { return srv.Serve(limitConns(ln, 1, srv.evictIdle)) })
	holder := hold(t, addr, "/sized", entered) // busy: it cannot be evicted
	if status := request(t, transcript.Dial(t, addr), "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n"); status != "HTTP/1.1 503 Service Unavailable\r\n" {
		t.Fatalf("second client, over the cap, got %q, want 503", status)
	}
	close(release)
	holder.Close()
	// The server frees the slot when it has closed its side, a moment
	// after the client's; retry until it has (bounded).
	for try := 0; ; try++ {
		status := request(t, transcript.Dial(t, addr), "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n")
		if status == "HTTP/1.1 200 OK\r\n" {
			return
		}
		if try == 500 {
			t.Fatalf("after the first client left, a new client still got %q, want 200", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blockingApp answers /block only when release is closed; entered gets a
// value when a request is inside it.
func blockingApp(entered chan<- struct{}, release <-chan struct{}) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		if environ["PATH_INFO"] != "/block" {
			return demo(environ, startResponse)
		}
		entered <- struct{}{}
		<-release
		startResponse("200 OK", []Header{textPlainUTF8}, nil)
		return func(yield func([]byte) bool) { yield([]byte("released\n")) }
	}
}

func TestShutdownClosesIdleAndLetsInFlightFinish(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := &Server{App: blockingApp(entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	idle := transcript.Dial(t, ln.Addr().String()) // kept alive after one request
	if status := request(t, idle, "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n"); status != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("idle client's first request got %q", status)
	}
	busy := transcript.Dial(t, ln.Addr().String())
	io.WriteString(busy, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered // the app is running

	ln.Close() // what serveUntil does first: no new connections
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(context.Background()) }()

	if n, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle connection during shutdown: read %d bytes, %v; want it closed (EOF)", n, err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Errorf("a new connection was accepted after the listener closed")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v while a request was in flight", err)
	default:
	}
	close(release)
	all, err := io.ReadAll(busy)
	if err != nil || !strings.HasPrefix(string(all), "HTTP/1.1 200 OK\r\n") ||
		!strings.Contains(string(all), "\r\nConnection: close\r\n") || !strings.HasSuffix(string(all), "released\n") {
		t.Errorf("in-flight response = %q, %v; want all of it, with Connection: close, then the close", all, err)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

func TestShutdownDeadlineCutsWhatIsLeft(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	srv := &Server{App: blockingApp(entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
	addr := transcript.Start(t, srv.Serve)
	busy := transcript.Dial(t, addr)
	io.WriteString(busy, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered
	// The deadline is what this test is about; it has passed already.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown past its deadline = %v, want context.Canceled", err)
	}
	if all, err := io.ReadAll(busy); len(all) != 0 || err != nil {
		t.Errorf("cut connection got %q, %v; want nothing, then the close", all, err)
	}
}

// TestSIGTERMFinishesTheSlowRequestAndExitsZero runs the real binary, as
// docker does: SIGTERM during /slow, and the rest of /slow still arrives.
func TestSIGTERMFinishesTheSlowRequestAndExitsZero(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "step08-python")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	lines := bufio.NewReader(stdout)
	first, _ := lines.ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(first), "step08-python serving on http://")
	if !ok {
		t.Fatalf("first line %q", first)
	}
	go io.Copy(io.Discard, lines)
	conn := transcript.Dial(t, strings.TrimSuffix(url, "/"))
	br := startSlow(t, conn)
	cmd.Process.Signal(syscall.SIGTERM)
	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), "finished 1s later\n") || !strings.HasSuffix(string(rest), "0\r\n\r\n") {
		t.Errorf("after SIGTERM /slow sent %q, %v; want the rest of its chunked body", rest, err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM the server exited with %v, want exit status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the server did not exit within 10s of SIGTERM")
	}
}

// The README's console output that no transcript makes is checked against
// the program instead: each block under a "<!-- checked: NAME -->" line.
// readmeBlock returns the lines of block NAME.
func readmeBlock(t *testing.T, name string) []string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- checked: "+regexp.QuoteMeta(name)+" -->\n```[a-z]*\n(.*?)```\n").FindAllSubmatch(readme, -1)
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d blocks under <!-- checked: %s -->, want 1", len(blocks), name)
	}
	return strings.Split(strings.TrimSuffix(string(blocks[0][1]), "\n"), "\n")
}

// outputOf finds the command in a console block that starts with prefix
// ("$ " left out) and returns it, without its # comment, and the lines it
// prints: those up to the next command.
func outputOf(t *testing.T, block []string, prefix string) (command string, output []string) {
	t.Helper()
	for i, line := range block {
		if !strings.HasPrefix(line, "$ "+prefix) {
			continue
		}
		command, _, _ = strings.Cut(strings.TrimPrefix(line, "$ "), "  #")
		for _, out := range block[i+1:] {
			if strings.HasPrefix(out, "$ ") {
				break
			}
			output = append(output, out)
		}
		return strings.TrimSpace(command), output
	}
	t.Fatalf("README.md's block has no command %q:\n%s", "$ "+prefix, strings.Join(block, "\n"))
	return "", nil
}

// waitForLines polls out until it holds n lines (bounded, so that a
// server that prints nothing fails the test instead of hanging it).
func waitForLines(t *testing.T, out *lockedBuffer, n int) []string {
	t.Helper()
	for range 1000 {
		if lines := strings.SplitAfter(out.String(), "\n"); len(lines) > n {
			return lines[:n]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after 10s the server had printed %q, want %d lines", out.String(), n)
	return nil
}

// What changes from run to run in what run prints: the port (the README
// shows the default, 8082) and how long the app took.
// step08: and the number of workers, which is the core count by default.
var (
	printedPort  = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	appTime      = regexp.MustCompile(` \d+µs$`)
	workersCount = regexp.MustCompile(`^\* \d+ (\S+ workers running)`)
)

func normalisePrinted(lines []string) []string {
	var out []string
	for _, line := range lines {
		line = printedPort.ReplaceAllString(strings.TrimSuffix(line, "\n"), "http://127.0.0.1:8082/")
		line = workersCount.ReplaceAllString(line, "* <n> $1")
		out = append(out, appTime.ReplaceAllString(line, " <n>µs"))
	}
	return out
}

// TestREADMEShowsWhatRunPrints runs the server as main does, on every
// interface and a free port, with a fake stdout; sends GET /healthz, shuts
// it down (the signal's context ends) and compares what it printed with
// the README's blocks "run" (the line after `go run ./step08-python`) and
// "access-log", line by line.
func TestREADMEShowsWhatRunPrints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", ":0"}, &stdout) }()
	url := printedPort.FindString(waitForLines(t, &stdout, 2)[0]) // step08: and the workers' line
	if url == "" {
		t.Fatalf("run printed %q, want a URL", stdout.String())
	}
	resp, err := http.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	waitForLines(t, &stdout, 3) // the access log's line is out before the shutdown begins
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after its context ended, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of its context ending")
	}
	printed := normalisePrinted(strings.SplitAfter(strings.TrimSuffix(stdout.String(), "\n"), "\n"))

	_, started := outputOf(t, readmeBlock(t, "run"), "go run ./step08-python ")
	if want := normalisePrinted(started); !slices.Equal(printed[:2], want) {
		t.Errorf("run printed first %q; README.md's run block shows %q", printed[:2], want)
	}
	if want := normalisePrinted(readmeBlock(t, "access-log")); !slices.Equal(printed[2:], want) {
		t.Errorf("then run printed (normalised)\n%s\nREADME.md's access-log block shows\n%s",
			strings.Join(printed[2:], "\n"), strings.Join(want, "\n"))
	}
}

// startSlow asks conn for /slow and reads until the route says it has
// started, so that what the test does next happens with it in flight. The
// rest of the answer is left in the returned reader.
func startSlow(t *testing.T, conn net.Conn) *bufio.Reader {
	t.Helper()
	io.WriteString(conn, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	var head strings.Builder
	for !strings.HasSuffix(head.String(), "started\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("/slow sent %q, then %v", head.String(), err)
		}
		head.WriteString(line)
	}
	return br
}

// TestREADMEFlagTable: each of step 07's and step 08's flags has a row in
// the README's flag table, and the row's default is the flag's. The
// default of -workers is the machine's core count: the row says so in words.
func TestREADMEFlagTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	flags := flag.NewFlagSet("step08-python", flag.ContinueOnError)
	shippingFlags(flags, &shipping{})
	poolFlags(flags, &poolConfig{})
	flags.VisitAll(func(f *flag.Flag) {
		def := "`" + f.DefValue + "`"
		switch {
		case f.DefValue == "false", f.DefValue == "": // a switch, or nothing by default: no default shown
			def = ""
		case f.Name == "workers":
			def = "the core count"
		}
		row := regexp.MustCompile("\n\\| `-" + f.Name + "( [a-z:]+)?` \\| " + regexp.QuoteMeta(def) + " ?\\|")
		if !row.Match(readme) {
			t.Errorf("README.md: no flag-table row for -%s with the default %s", f.Name, def)
		}
	})
}
