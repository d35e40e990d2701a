package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// fixedID is the request id in tests: a random one would make every
// transcript differ from run to run.
func fixedID() string { return "fixed-id-for-tests" }

// demo is the demo app as main serves it with -quiet: routes and
// middleware, no access log.
var demo = withMiddleware(routes().App, nil, false, fixedID)

// newServer serves the demo app, logging nothing, as the tests need.
func newServer(readTimeout time.Duration) *Server {
	return &Server{App: demo, Errors: io.Discard, ReadTimeout: readTimeout}
}

// demoOnPort8006 is the demo app with SERVER_PORT fixed to the step's
// default port. The test listens on a random port, and the transcripts must
// not depend on it. (REMOTE_ADDR is always 127.0.0.1 here.)
func demoOnPort8006(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	environ["SERVER_PORT"] = "8006"
	return demo(environ, startResponse)
}

func TestTranscript(t *testing.T) {
	// The clock is fixed: the harness writes <DATE> for the Date of each
	// response it frames, but a pipelined second answer arrives as the rest
	// of the stream, Date and all.
	srv := &Server{App: demoOnPort8006, Errors: devNull(t), ReadTimeout: time.Hour}
	transcript.Run(t, srv.Serve, "127.0.0.1:8006")
}

// devNull is a wsgi.errors that drops the demo's panics, yet shows in the
// echoed environ as the *os.File a real run gets (os.Stderr).
func devNull(t *testing.T) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestREADME(t *testing.T) { transcript.CheckREADME(t) }

func TestRunPrintsItsURLAndServes(t *testing.T) {
	line := transcript.StartMain(t, run, "-addr", "127.0.0.1:0")
	url, ok := strings.CutPrefix(line, "step06-framework serving on ")
	if !ok || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(url) {
		t.Fatalf("first line = %q, want \"step06-framework serving on http://127.0.0.1:PORT/\"", line)
	}
	// Go's own client must read our chunked framing, twice on one kept-alive connection.
	for range 2 {
		resp, err := http.Get(url + "stream")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "one\ntwo\nthree\n" || !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
			t.Errorf("GET /stream = %q, %v, framing %q; want one, two, three, chunked", body, err, resp.TransferEncoding)
		}
	}
	// A real HTTP client must understand our hand-written bytes, and the
	// demo app must see what it sent.
	resp, err := http.Post(url+"environ/caf%C3%A9?x=1", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	for _, want := range []string{
		"PATH_INFO = \"/caf\\u00c3\\u00a9\"\n",
		"SCRIPT_NAME = \"/environ\"\n",
		"QUERY_STRING = \"x=1\"\n",
		"REQUEST_METHOD = \"POST\"\n",
		"SERVER_PORT = \"" + port + "\"\n",
		"body: 5 bytes read from wsgi.input\n",
	} {
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("POST %s = %d %q, want 200 and a body with the line %q", url, resp.StatusCode, body, want)
		}
	}
}

// TestPrintedURLOpens: whatever -addr says, the printed URL is one a
// browser on this machine can open.
func TestPrintedURLOpens(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:0", `^http://127\.0\.0\.1:\d+/$`},
		{"localhost:0", `^http://127\.0\.0\.1:\d+/$`},
		// A wildcard address prints as [::], which no browser opens.
		{"0.0.0.0:0", `^http://127\.0\.0\.1:\d+/ \(listening on all interfaces\)$`},
		{":0", `^http://127\.0\.0\.1:\d+/ \(listening on all interfaces\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			line := transcript.StartMain(t, run, "-addr", tt.addr)
			printed, ok := strings.CutPrefix(line, "step06-framework serving on ")
			if !ok || !regexp.MustCompile(tt.want).MatchString(printed) {
				t.Fatalf("first line = %q, want \"step06-framework serving on \" and %s", line, tt.want)
			}
			url, _, _ := strings.Cut(printed, " ")
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s = %d, want 200", url, resp.StatusCode)
			}
		})
	}
}

// TestCommandLineMistakes runs main in a child process, as a learner
// would, so its exit code and everything it prints are what is checked;
// none of it lands in this test's output.
func TestCommandLineMistakes(t *testing.T) {
	if args, ok := os.LookupEnv("STEP_MAIN_ARGS"); ok {
		os.Args = append([]string{"step06-framework"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	const formHint = "(-addr takes host:port, such as 127.0.0.1:8006)"
	tests := []struct {
		name     string
		args     string
		exitCode int
		once     []string // each printed exactly once
	}{
		{"unknown flag", "-port 80", 2, []string{"flag provided but not defined: -port\n", "Usage of step06-framework:"}},
		{"extra argument", "8006", 2, []string{`unexpected argument "8006": every setting is a flag, such as -addr 127.0.0.1:8006`, "Usage of step06-framework:"}},
		{"argument after the flags", "-addr 127.0.0.1:0 now", 2, []string{`unexpected argument "now"`}},
		{"help", "-h", 0, []string{"Usage of step06-framework:", "-addr host:port", "-one-at-a-time"}},
		{"port in use", "-addr " + busy.Addr().String(), 1, []string{"step06-framework: listen tcp " + busy.Addr().String() + ": bind: address already in use (is another server using it? pick another port with -addr)\n"}},
		{"no port", "-addr nonsense", 1, []string{"step06-framework: listen tcp: address nonsense: missing port in address " + formHint}},
		{"port alone", "-addr 8006", 1, []string{"address 8006: missing port in address " + formHint}},
		{"port out of range", "-addr :99999", 1, []string{"address 99999: invalid port " + formHint}},
		// net.Listen takes these two, but neither can be what was meant.
		{"empty address", "-addr=", 2, []string{`invalid -addr "": it takes host:port with a numeric port, such as 127.0.0.1:8006 (port 0: any free one)` + "\n"}},
		{"port by its service name", "-addr 127.0.0.1:http", 2, []string{`invalid -addr "127.0.0.1:http": it takes host:port with a numeric port, such as 127.0.0.1:8006 (port 0: any free one)` + "\n"}},
		{"host that does not resolve", "-addr bad..name:8006", 1, []string{"lookup bad..name: no such host " + formHint}},
		{"address of another machine", "-addr 192.0.2.1:8006", 1, []string{"cannot assign requested address (the host must be one of this machine's addresses, such as 127.0.0.1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every row must make main exit; one that serves instead is
			// killed after a minute, so a broken main fails, not hangs.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCommandLineMistakes$")
			cmd.Env = append(os.Environ(), "STEP_MAIN_ARGS="+tt.args)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tt.exitCode {
				t.Errorf("step06-framework %s: exit code %d (%v), want %d", tt.args, code, err, tt.exitCode)
				if ctx.Err() != nil {
					t.Errorf("step06-framework %s was still running after a minute: it must refuse and exit", tt.args)
				}
			}
			all := stdout.String() + stderr.String()
			for _, want := range tt.once {
				if n := strings.Count(all, want); n != 1 {
					t.Errorf("step06-framework %s printed %q %d times, want once; it printed:\n%s", tt.args, want, n, all)
				}
			}
		})
	}
}

// stall connects and sends half a request line, then goes quiet.
func stall(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn := transcript.Dial(t, addr)
	if _, err := conn.Write([]byte("GET / HT")); err != nil {
		t.Fatal(err)
	}
	return conn
}

// get sends a whole request and returns the status line, or the error
// (a time-out when the server never answered within wait).
func get(addr string, wait time.Duration) (string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestStalledClientDoesNotDelayOthers(t *testing.T) {
	// The read timeout is far longer than the test: only concurrency can
	// let the second client through while the first one stalls.
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	stalled := stall(t, addr)
	status, err := get(addr, 10*time.Second)
	if err != nil || status != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("second client got %q, %v while the first stalled; want HTTP/1.1 200 OK", status, err)
	}
	stalled.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := stalled.Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("stalled client got %d bytes, %v; want no answer yet", n, err)
	}
}

func TestOneAtATimeLoopMakesOthersWait(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).ServeOneAtATime)
	stalled := stall(t, addr)
	// However long we wait, nothing can come back while the loop is stuck
	// reading from the stalled client.
	if status, err := get(addr, 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("second client got %q, %v; want no answer while the first stalls", status, err)
	}
	stalled.Close() // the loop moves on only when the first client goes
	status, err := get(addr, 10*time.Second)
	if err != nil || status != "HTTP/1.1 200 OK\r\n" {
		t.Errorf("after the first client left, got %q, %v; want HTTP/1.1 200 OK", status, err)
	}
}

func TestBadRequestsGetAStatusLine(t *testing.T) {
	tests := []struct {
		name, send, want string
		stalls           bool // the read timeout is what this row tests
	}{
		{"field lines over 16 KiB", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 17<<10) + "\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large\r\n", false},
		{"endless field line", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 20<<10), "HTTP/1.1 431 Request Header Fields Too Large\r\n", false},
		{"endless request line", "GET /" + strings.Repeat("a", 20<<10), "HTTP/1.1 414 URI Too Long\r\n", false},
		{"stalled past the read timeout", "GET / HT", "HTTP/1.1 408 Request Timeout\r\n", true},
		{"stalled after the request line", "GET / HTTP/1.1\r\nHost: x\r\n", "HTTP/1.1 408 Request Timeout\r\n", true},
		{"stalled inside the body", "POST /environ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel", "HTTP/1.1 408 Request Timeout\r\n", true},
		{"chunk over the body limit", "POST /environ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", "HTTP/1.1 413 Content Too Large\r\n", false},
		{"chunk size lines over their budget", "POST /environ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + extensionHeavy(maxChunkLinesSum+1), "HTTP/1.1 400 Bad Request\r\n", false},
	}
	// Only a row that stalls waits for the read timeout, the thing it tests.
	// Every other row gets an hour, so a slow, loaded machine cannot turn
	// its answer into a 408.
	patient := transcript.Start(t, newServer(time.Hour).Serve)
	impatient := transcript.Start(t, newServer(200*time.Millisecond).Serve)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := patient
			if tt.stalls {
				addr = impatient
			}
			conn := transcript.Dial(t, addr)
			conn.Write([]byte(tt.send))
			status, err := bufio.NewReader(conn).ReadString('\n')
			if status != tt.want {
				t.Errorf("got %q, %v; want %q", status, err, tt.want)
			}
		})
	}
}

func TestHeadArrivingByteByByte(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	conn := transcript.Dial(t, addr)
	for _, b := range []byte("GET /environ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") {
		if _, err := conn.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := io.ReadAll(conn)
	want := "HTTP/1.1 200 OK\r\n"
	if err != nil || !strings.HasPrefix(string(all), want) || !strings.Contains(string(all), "\nHTTP_HOST = \"x\"\n") {
		t.Errorf("got %q, %v; want %q and the environ with HTTP_HOST", all, err, want)
	}
}

// hangUp sends part of a request and drops the connection with a reset, the
// rudest way a client can leave.
func hangUp(t *testing.T, addr, send string) {
	t.Helper()
	conn := transcript.Dial(t, addr)
	conn.Write([]byte(send))
	conn.(*net.TCPConn).SetLinger(0) // Close sends RST instead of FIN
	conn.Close()
}

// exchange sends one request and returns all the server sends before it
// closes the connection.
func exchange(addr, request string) (string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		return "", err
	}
	all, err := io.ReadAll(conn)
	return string(all), err
}

// output collects what run prints; the test reads it while run goes on.
type output struct {
	mu        sync.Mutex
	b         strings.Builder
	firstLine chan struct{} // closed once the first line is in
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	if o.firstLine != nil && strings.Contains(o.b.String(), "\n") {
		close(o.firstLine)
		o.firstLine = nil
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// TestQuietPrintsNoAccessLog runs main's run with and without -quiet and
// sends one request: its access-log line is printed only without it.
func TestQuietPrintsNoAccessLog(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			args := []string{"-addr", "127.0.0.1:0"}
			if quiet {
				args = append(args, "-quiet")
			}
			firstLine := make(chan struct{})
			out := &output{firstLine: firstLine}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, args, out) }()
			select {
			case <-firstLine:
			case err := <-done:
				t.Fatalf("run(%q) = %v before printing its URL", args, err)
			case <-time.After(10 * time.Second):
				cancel()
				t.Fatal("run printed no URL within 10s")
			}
			urlLine := out.String()
			addr := strings.TrimSuffix(strings.TrimPrefix(urlLine, "step06-framework serving on http://"), "/\n")
			conn := transcript.Dial(t, addr)
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			io.ReadAll(conn) // the line is logged when the body ends, before the server hangs up
			cancel()
			<-done // run returns once what it logged is out
			got := strings.TrimPrefix(out.String(), urlLine)
			if quiet && got != "" {
				t.Errorf("with -quiet, run printed %q after its URL, want nothing", got)
			}
			if !quiet && !regexp.MustCompile(`^127\.0\.0\.1 GET "/" 200 13 \d+µs\n$`).MatchString(got) {
				t.Errorf("without -quiet, run printed %q after its URL, want the access-log line of GET /", got)
			}
		})
	}
}

// TestREADMEShowsTheAccessLog: the access-log line the README shows is the
// one the demo prints for the same request through the real server. Only
// the duration varies from run to run, so it is compared as a pattern.
func TestREADMEShowsTheAccessLog(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("<!-- checked: access-log -->\n```\n(.*)\n```\n").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no access-log line under <!-- checked: access-log -->")
	}
	shown := string(m[1])
	var log lockedBuffer
	app := withMiddleware(routes().App, &log, false, fixedID)
	addr := transcript.Start(t, (&Server{App: app, Errors: io.Discard, ReadTimeout: time.Hour}).Serve)
	path := strings.Split(shown, `"`)[1] // the request the README's line is about
	if _, err := exchange(addr, "GET "+path+" HTTP/1.1\r\nHost: 127.0.0.1:8006\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	duration := regexp.MustCompile(`[0-9.]+(ns|µs|ms|s)\n$`)
	printed := duration.ReplaceAllString(log.String(), "<duration>")
	if want := duration.ReplaceAllString(shown+"\n", "<duration>"); printed != want {
		t.Errorf("README.md shows the access-log line\n\t%q\nbut the demo printed\n\t%q", want, printed)
	}
}
