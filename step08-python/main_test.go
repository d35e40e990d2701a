package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// fixedID is the request id in tests: a random one would make every
// transcript differ from run to run.
func fixedID() string { return "fixed-id-for-tests" }

// demo is the demo app as main serves it with -quiet: routes and
// middleware, no access log.
var demo = withMiddleware(addShippingRoutes(routes(), neverShuttingDown).App, nil, false, fixedID) // step07: /healthz, /slow

// newServer serves the demo app, logging nothing, as the tests need.
// step07: readTimeout is both the head's and the body's.
func newServer(readTimeout time.Duration) *Server {
	return &Server{App: demo, Errors: io.Discard, HeaderTimeout: readTimeout, BodyTimeout: readTimeout}
}

func TestTranscript(t *testing.T) {
	// step08: every transcript of step 07, answered by the same demo app
	// written in Python (course_apps.py) and run in Python workers. Where
	// Python's bytes differ from Go's (the environ echo shows Python's
	// types), the transcript is re-recorded. For a transcript named
	// over-cap-* or shutdown-*, replayTranscripts makes a server in a
	// state of its own (shipping_test.go).
	replayTranscripts(t, func() *Server { return pythonServer(t) })
}

func TestREADME(t *testing.T) { transcript.CheckREADME(t) }

func TestRunPrintsItsURLAndServes(t *testing.T) {
	line := transcript.StartMain(t, run, "-addr", "127.0.0.1:0")
	url, ok := strings.CutPrefix(line, "step08-python serving on ")
	if !ok || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(url) {
		t.Fatalf("first line = %q, want \"step08-python serving on http://127.0.0.1:PORT/\"", line)
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
// browser on this machine can open. (step07: as in step 05.)
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
			printed, ok := strings.CutPrefix(line, "step08-python serving on ")
			if !ok || !regexp.MustCompile(tt.want).MatchString(printed) {
				t.Fatalf("first line = %q, want \"step08-python serving on \" and %s", line, tt.want)
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
// none of it lands in this test's output. (step07: as in step 05, with
// step 07's hints.)
func TestCommandLineMistakes(t *testing.T) {
	if args, ok := os.LookupEnv("STEP_MAIN_ARGS"); ok {
		os.Args = append([]string{"step08-python"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	const formHint = "(-addr and ADDR take host:port, such as :8082)"
	tests := []struct {
		name     string
		args     string
		exitCode int
		once     []string // each printed exactly once
	}{
		{"unknown flag", "-port 80", 2, []string{"flag provided but not defined: -port\n", "Usage of step08-python:"}},
		{"extra argument", "8082", 2, []string{`unexpected argument "8082": every setting is a flag, such as -addr :8082`, "Usage of step08-python:"}},
		{"argument after the flags", "-addr 127.0.0.1:0 now", 2, []string{`unexpected argument "now"`}},
		{"help", "-h", 0, []string{"Usage of step08-python:", "-addr host:port", "-max-conns n", "-healthcheck"}},
		{"port in use", "-addr " + busy.Addr().String(), 1, []string{"step08-python: listen tcp " + busy.Addr().String() + ": bind: address already in use (is another server using it? pick another port with -addr or PORT)\n"}},
		{"no port", "-addr nonsense", 1, []string{"step08-python: listen tcp: address nonsense: missing port in address " + formHint}},
		{"port alone", "-addr 8082", 1, []string{"address 8082: missing port in address " + formHint}},
		{"port out of range", "-addr :99999", 1, []string{"address 99999: invalid port " + formHint}},
		// net.Listen takes these two, but neither can be what was meant.
		// step07: and a timeout that cannot work (TestSettingsThatCannotWork has the rest).
		{"empty address", "-addr=", 2, []string{`invalid -addr "": it takes host:port with a numeric port, such as :8082 (port 0: any free one)` + "\n"}},
		{"port by its service name", "-addr 127.0.0.1:http", 2, []string{`invalid -addr "127.0.0.1:http": it takes host:port with a numeric port, such as :8082 (port 0: any free one)` + "\n"}},
		{"negative timeout", "-header-timeout -1s", 2, []string{"invalid -header-timeout -1s: it takes a duration above 0, such as 10s\n"}},
		{"host that does not resolve", "-addr bad..name:8082", 1, []string{"lookup bad..name: no such host " + formHint}},
		{"address of another machine", "-addr 192.0.2.1:8082", 1, []string{"cannot assign requested address (the host must be one of this machine's addresses, such as 127.0.0.1)"}},
		{"health check with nothing listening", "-healthcheck -addr " + closedPort(t), 1, []string{"step08-python: unhealthy: dial tcp "}},
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
				t.Errorf("step08-python %s: exit code %d (%v), want %d", tt.args, code, err, tt.exitCode)
				if ctx.Err() != nil {
					t.Errorf("step08-python %s was still running after a minute: it must refuse and exit", tt.args)
				}
			}
			all := stdout.String() + stderr.String()
			for _, want := range tt.once {
				if n := strings.Count(all, want); n != 1 {
					t.Errorf("step08-python %s printed %q %d times, want once; it printed:\n%s", tt.args, want, n, all)
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

// rawExchange sends one request and returns all the server sends before it
// closes the connection.
func rawExchange(addr, request string) (string, error) {
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
