package main

import (
	"bufio"
	"bytes"
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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
	"github.com/google/go-cmp/cmp"
)

// newServer serves the demo app, logging nothing, as the tests need.
func newServer(readTimeout time.Duration) *Server {
	return &Server{App: echoEnviron, Log: io.Discard, ReadTimeout: readTimeout}
}

// echoOnPort8004 is the demo app with SERVER_PORT fixed to the step's
// default port. The test listens on a random port, and the transcripts must
// not depend on it. (REMOTE_ADDR is always 127.0.0.1 here.)
func echoOnPort8004(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	environ["SERVER_PORT"] = "8004"
	return echoEnviron(environ, startResponse)
}

func TestTranscript(t *testing.T) {
	srv := &Server{App: echoOnPort8004, Log: io.Discard, ReadTimeout: time.Hour}
	transcript.Run(t, srv.Serve, "127.0.0.1:8004")
}

func TestREADME(t *testing.T) { transcript.CheckREADME(t) }

// TestREADMEShowsTheServerLog: the README's server-log blocks are what the
// server prints for those transcripts.
func TestREADMEShowsTheServerLog(t *testing.T) {
	transcript.CheckREADMELog(t, func(log io.Writer) func(net.Listener) error {
		return (&Server{App: echoOnPort8004, Log: log, ReadTimeout: time.Hour}).Serve
	})
}

func TestRunPrintsItsURLAndServes(t *testing.T) {
	line := transcript.StartMain(t, run, "-addr", "127.0.0.1:0")
	url, ok := strings.CutPrefix(line, "step04-environ serving on ")
	if !ok || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(url) {
		t.Fatalf("first line = %q, want \"step04-environ serving on http://127.0.0.1:PORT/\"", line)
	}
	// A real HTTP client must understand our hand-written bytes, and the
	// demo app must see what it sent.
	resp, err := http.Post(url+"caf%C3%A9?x=1", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	for _, want := range []string{
		"PATH_INFO = \"/caf\\u00c3\\u00a9\"\n",
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
			printed, ok := strings.CutPrefix(line, "step04-environ serving on ")
			if !ok || !regexp.MustCompile(tt.want).MatchString(printed) {
				t.Fatalf("first line = %q, want \"step04-environ serving on \" and %s", line, tt.want)
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
		os.Args = append([]string{"step04-environ"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	const formHint = "(-addr takes host:port, such as 127.0.0.1:8004)"
	tests := []struct {
		name     string
		args     string
		exitCode int
		once     []string // each printed exactly once
	}{
		{"unknown flag", "-port 80", 2, []string{"flag provided but not defined: -port\n", "Usage of step04-environ:"}},
		{"extra argument", "8004", 2, []string{`unexpected argument "8004": every setting is a flag, such as -addr 127.0.0.1:8004`, "Usage of step04-environ:"}},
		{"argument after the flags", "-addr 127.0.0.1:0 now", 2, []string{`unexpected argument "now"`}},
		{"help", "-h", 0, []string{"Usage of step04-environ:", "-addr host:port", "-one-at-a-time"}},
		{"port in use", "-addr " + busy.Addr().String(), 1, []string{"step04-environ: listen tcp " + busy.Addr().String() + ": bind: address already in use (is another server using it? pick another port with -addr)\n"}},
		{"no port", "-addr nonsense", 1, []string{"step04-environ: listen tcp: address nonsense: missing port in address " + formHint}},
		{"port alone", "-addr 8005", 1, []string{"address 8005: missing port in address " + formHint}},
		{"port out of range", "-addr :99999", 1, []string{"address 99999: invalid port " + formHint}},
		// net.Listen takes these two, but neither can be what was meant.
		{"empty address", "-addr=", 2, []string{`invalid -addr "": it takes host:port with a numeric port, such as 127.0.0.1:8004 (port 0: any free one)` + "\n"}},
		{"port by its service name", "-addr 127.0.0.1:http", 2, []string{`invalid -addr "127.0.0.1:http": it takes host:port with a numeric port, such as 127.0.0.1:8004 (port 0: any free one)` + "\n"}},
		{"host that does not resolve", "-addr bad..name:8004", 1, []string{"lookup bad..name: no such host " + formHint}},
		{"address of another machine", "-addr 192.0.2.1:8004", 1, []string{"cannot assign requested address (the host must be one of this machine's addresses, such as 127.0.0.1)"}},
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
				t.Errorf("step04-environ %s: exit code %d (%v), want %d", tt.args, code, err, tt.exitCode)
				if ctx.Err() != nil {
					t.Errorf("step04-environ %s was still running after a minute: it must refuse and exit", tt.args)
				}
			}
			all := stdout.String() + stderr.String()
			for _, want := range tt.once {
				if n := strings.Count(all, want); n != 1 {
					t.Errorf("step04-environ %s printed %q %d times, want once; it printed:\n%s", tt.args, want, n, all)
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
		{"stalled inside the body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel", "HTTP/1.1 408 Request Timeout\r\n", true},
		{"chunk over the body limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", "HTTP/1.1 413 Content Too Large\r\n", false},
		{"chunk size lines over their budget", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + extensionHeavy(maxChunkLinesSum+1), "HTTP/1.1 400 Bad Request\r\n", false},
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

func TestLogShowsTheExchange(t *testing.T) {
	client := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}
	tests := []struct {
		name           string
		head, response string
		want           string
	}{
		{"refused head", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\n", string(errorResponse(&statusError{400, "bare LF line ending"})),
			"> GET / HTTP/1.1\n> X: caf\\xc3\\xa9\\n\n" +
				"< HTTP/1.1 400 Bad Request\n< Content-Type: text/plain; charset=utf-8\n< Content-Length: 20\n< Connection: close\n<\nbare LF line ending\n"},
		{"interim 100 Continue", "POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
			"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
			"> POST / HTTP/1.1\n> Expect: 100-continue\n> \n" +
				"< HTTP/1.1 100 Continue\n<\n< HTTP/1.1 200 OK\n< Content-Length: 3\n<\nok\n"},
		// The next entry must start on a line of its own.
		{"body without a final newline", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			"> GET / HTTP/1.1\n> \n< HTTP/1.1 200 OK\n< Content-Length: 2\n<\nok\n"},
		{"long body clipped", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("a", maxLogBody+10),
			"> GET / HTTP/1.1\n> \n< HTTP/1.1 200 OK\n<\n" + strings.Repeat("a", maxLogBody) + "\n* 10 more bytes of body not shown\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			(&Server{Log: &log, Errors: io.Discard}).logExchange(client, []byte(tt.head), []byte(tt.response), nil)
			if diff := cmp.Diff("* connection from 127.0.0.1:5000\n"+tt.want, log.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeadArrivingByteByByte(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	conn := transcript.Dial(t, addr)
	for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n") {
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

// Every kind of bad input, each on its own connection, must leave the
// server as it was: the next good request still gets its 200.
func TestServerSurvivesBadInput(t *testing.T) {
	all, err := transcript.LoadDir("testdata/transcripts")
	if err != nil {
		t.Fatal(err)
	}
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	refused := regexp.MustCompile(`^HTTP/1\.1 [45]\d\d `)
	for _, tr := range all {
		if !refused.Match(tr.Exchanges[0].Response) {
			continue // only the transcripts of refused requests
		}
		t.Run(tr.Name, func(t *testing.T) {
			got, err := transcript.Replay(addr, tr)
			if err != nil || len(got) == 0 || !refused.Match(got[0]) {
				t.Errorf("got %q, %v; want a 4xx or 5xx response", got, err)
			}
		})
	}
	for _, tt := range []struct{ name, send string }{
		{"reset inside the request line", "GET / HT"},
		{"reset inside a field line", "GET / HTTP/1.1\r\nHo"},
		{"reset inside an endless line", "GET /" + strings.Repeat("a", 20<<10)},
	} {
		t.Run(tt.name, func(t *testing.T) { hangUp(t, addr, tt.send) })
	}
	status, err := get(addr, 10*time.Second)
	if err != nil || status != "HTTP/1.1 200 OK\r\n" {
		t.Errorf("after the bad input a good GET got %q, %v; want HTTP/1.1 200 OK", status, err)
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

// troubleApp misbehaves in the way its path names, and echoes the environ
// for any other path.
func troubleApp(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	switch environ["PATH_INFO"] {
	case "/panic":
		panic("app failed")
	case "/panic-in-body":
		startResponse("200 OK", nil, nil)
		return func(yield func([]byte) bool) {
			yield([]byte("half a body"))
			panic("body failed")
		}
	case "/no-start-response":
		return func(yield func([]byte) bool) { yield([]byte("body without a status")) }
	case "/nil-body":
		startResponse("200 OK", nil, nil)
		return nil
	}
	return echoEnviron(environ, startResponse)
}

// lockedBuffer is a wsgi.errors the test can read while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// An app that fails gets wsgiref's 500, the failure goes to wsgi.errors
// with a stack, and the server goes on serving.
func TestAppFailureGets500(t *testing.T) {
	const want500 = "HTTP/1.1 500 Internal Server Error\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 60\r\nConnection: close\r\n\r\n" +
		"A server error occurred.  Please contact the administrator.\n"
	tests := []struct{ path, logged string }{
		{"/panic", "panic: app failed\n"},
		{"/panic-in-body", "panic: body failed\n"},
		{"/no-start-response", "panic: the app returned without calling start_response\n"},
		{"/nil-body", "panic: runtime error: invalid memory address or nil pointer dereference\n"},
	}
	errs := &lockedBuffer{}
	addr := transcript.Start(t, (&Server{App: troubleApp, Log: io.Discard, Errors: errs, ReadTimeout: time.Hour}).Serve)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := exchange(addr, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if err != nil || got != want500 {
				t.Errorf("got %q, %v; want %q", got, err, want500)
			}
			// The report is written before the server hangs up, so it is complete now.
			logged := errs.String()
			if !strings.Contains(logged, tt.logged) || !strings.Contains(logged, "runtime/debug.Stack") {
				t.Errorf("wsgi.errors = %q; want %q and a stack", logged, tt.logged)
			}
		})
	}
	got, err := exchange(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err != nil || !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("after the failures a good GET got %q, %v; want HTTP/1.1 200 OK", got, err)
	}
}

// The app's status and headers go out as it gave them; the server adds
// Content-Length (counting what the body iterator and write() gave) and
// Connection: close.
func TestResponseFromTheApp(t *testing.T) {
	app := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write := startResponse("201 Created", []Header{{"X-First", "1"}, {"Content-Length", "999"}, {"X-Second", "2"}}, nil)
		write([]byte("written, "))
		return func(yield func([]byte) bool) {
			_ = yield([]byte("then ")) && yield(nil) && yield([]byte("yielded"))
		}
	}
	addr := transcript.Start(t, (&Server{App: app, Log: io.Discard, ReadTimeout: time.Hour}).Serve)
	got, err := exchange(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	want := "HTTP/1.1 201 Created\r\nX-First: 1\r\nX-Second: 2\r\nContent-Length: 21\r\nConnection: close\r\n\r\nwritten, then yielded"
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Errorf("response (-want +got):\n%s\nerror: %v", diff, err)
	}
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

// TestQuietPrintsNoExchange runs main's run with and without -quiet and
// sends one request: the exchange is printed only without it.
func TestQuietPrintsNoExchange(t *testing.T) {
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
				defer func() { cancel(); <-done }()
			case err := <-done:
				t.Fatalf("run(%q) = %v before printing its URL", args, err)
			case <-time.After(10 * time.Second):
				t.Fatal("run printed no URL within 10s")
			}
			urlLine := out.String()
			addr := strings.TrimSuffix(strings.TrimPrefix(urlLine, "step04-environ serving on http://"), "/\n")
			conn := transcript.Dial(t, addr)
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			io.ReadAll(conn) // the server prints the exchange before it hangs up
			got := strings.TrimPrefix(out.String(), urlLine)
			if quiet && got != "" {
				t.Errorf("with -quiet, run printed %q after its URL, want nothing", got)
			}
			if !quiet && !strings.HasPrefix(got, "* connection from 127.0.0.1:") {
				t.Errorf("without -quiet, run printed %q after its URL, want the exchange", got)
			}
		})
	}
}

// A panic's report comes right after the exchange it belongs to, in the
// same locked write, so no other connection's exchange can come between.
func TestPanicReportFollowsItsExchange(t *testing.T) {
	out := &lockedBuffer{}
	addr := transcript.Start(t, (&Server{App: troubleApp, Log: out, Errors: out, ReadTimeout: time.Hour}).Serve)
	if _, err := exchange(addr, "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	exchangeLog, report, found := strings.Cut(out.String(), "panic: app failed\n")
	if !found || !strings.HasPrefix(exchangeLog, "* connection from ") ||
		!strings.HasSuffix(exchangeLog, "\nA server error occurred.  Please contact the administrator.\n") ||
		!strings.Contains(report, "runtime/debug.Stack") {
		t.Errorf("log = %q; want the exchange and its 500, then the panic and its stack", out.String())
	}
}

// heapInUse is the heap the whole process holds right now, after a GC.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// TestOneConnectionCannotGrowTheServer sends, on one connection, a chunked
// body of one-byte chunks that each carry 4 KiB of extension, 32 MiB in
// all: the body limit (1 MiB of data) is never reached. The app reads the
// heap once it has read the body, or the body was refused, while the
// server still holds everything it kept of the request.
func TestOneConnectionCannotGrowTheServer(t *testing.T) {
	heap := make(chan int64, 1)
	app := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		io.Copy(io.Discard, environ["wsgi.input"].(io.Reader))
		heap <- heapInUse()
		startResponse("200 OK", nil, nil)
		return func(yield func([]byte) bool) {}
	}
	// A log, so that its copy of the request is made.
	addr := transcript.Start(t, (&Server{App: app, Log: io.Discard, Errors: io.Discard, ReadTimeout: time.Hour}).Serve)
	chunk := []byte("1;" + strings.Repeat("e", maxChunkLineBytes-len("1;\r\n")) + "\r\nz\r\n")
	const sent = 32 << 20
	before := heapInUse()
	conn := transcript.Dial(t, addr)
	go func() {
		io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		for n := 0; n < sent; n += len(chunk) {
			if _, err := conn.Write(chunk); err != nil {
				return // the server refused the body and hung up
			}
		}
		io.WriteString(conn, "0\r\n\r\n")
	}()
	var grown int64
	select {
	case h := <-heap:
		grown = h - before
	case <-time.After(time.Minute):
		t.Fatal("the app never finished reading the body")
	}
	t.Logf("sent up to %d bytes; the heap grew by %d bytes (worst case %d)", sent, grown, worstCasePerConnection)
	if grown > worstCasePerConnection {
		t.Errorf("the heap grew by %d bytes for one connection; want at most %d (worstCasePerConnection)", grown, worstCasePerConnection)
	}
}

// The README states worstCasePerConnection, to the byte.
func TestREADMEStatesTheWorstCase(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("= %d bytes", worstCasePerConnection); !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not say %q (worstCasePerConnection)", want)
	}
}
