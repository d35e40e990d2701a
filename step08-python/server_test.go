package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
	"github.com/google/go-cmp/cmp"
)

// contractGuard passes every *ContractError the validator raises, from the
// app call or from its body, to record, then lets the panic go on.
func contractGuard(app App, record func(*ContractError)) App {
	check := func() {
		if p := recover(); p != nil {
			if err, ok := p.(*ContractError); ok {
				record(err)
			}
			panic(p)
		}
	}
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		defer check()
		body := app(environ, startResponse)
		return func(yield func([]byte) bool) {
			defer check()
			body(yield)
		}
	}
}

// Every demo route, with every kind of request, keeps the WSGI contract as
// wsgiref.validate checks it: no ContractError, no WSGIWarning. The
// validator wraps the whole demo, middleware and router included, so it
// also sees Recover's second start_response (with excInfo). The only
// panics are the two the error routes make on purpose.
func TestDemoKeepsTheContract(t *testing.T) {
	var mu sync.Mutex
	var broken []string
	errs := &lockedBuffer{}
	app := contractGuard(Validator(demo), func(err *ContractError) {
		mu.Lock()
		defer mu.Unlock()
		broken = append(broken, err.Message)
	})
	addr := transcript.Start(t, (&Server{App: app, Errors: errs, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)

	routes := []struct{ path, panics string }{
		{"/", ""}, {"/html", ""}, {"/json", ""}, {"/hello/w%C3%B6rld", ""}, {"/echo", ""},
		{"/environ/x", ""}, {"/nowhere", ""}, {"/html/", ""},
		{"/stream", ""}, {"/write", ""}, {"/sized", ""},
		{"/error-before", "the demo app failed before its first chunk"},
		{"/error-after", "the demo app failed after its first chunk"},
	}
	requests := map[string]string{
		"GET":      "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"HEAD":     "HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"HTTP/1.0": "GET %s HTTP/1.0\r\n\r\n",
		"POST":     "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		"POST JSON": "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\n" +
			"Content-Length: 8\r\nConnection: close\r\n\r\n{\"a\": 1}",
	}
	for _, route := range routes {
		for kind, format := range requests {
			t.Run(kind+" "+route.path, func(t *testing.T) {
				before := len(errs.String())
				got, err := rawExchange(addr, strings.Replace(format, "%s", route.path, 1))
				if err != nil || !strings.HasPrefix(got, "HTTP/1.1 ") {
					t.Fatalf("got %q, %v; want a response", got, err)
				}
				logged := errs.String()[before:]
				if strings.Contains(logged, "WSGIWarning") {
					t.Errorf("wsgi.errors has a warning:\n%s", logged)
				}
				wantPanic := ""
				if route.panics != "" {
					wantPanic = route.panics + "\n"
				}
				if gotPanic := panicMessage(logged); gotPanic != wantPanic {
					t.Errorf("panic logged: %q, want %q", gotPanic, wantPanic)
				}
			})
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(broken) > 0 {
		t.Errorf("the validator caught broken rules:\n%s", strings.Join(broken, "\n"))
	}
}

// lockedBuffer is a wsgi.errors the test can read while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
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

// panicMessage is the first line of a panic in a wsgi.errors log (without
// the "panic: " or "panic after ...: " prefix), or "".
func panicMessage(log string) string {
	m := regexp.MustCompile(`(?m)^panic[^:]*: (.*\n)`).FindStringSubmatch(log)
	if m == nil {
		return ""
	}
	return m[1]
}

// readResponse reads one framed response from br with Go's HTTP client
// code, and returns its status and body.
func readResponse(br *bufio.Reader, method string) (string, string, error) {
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.Status, string(body), err
}

func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	addr := transcript.Start(t, (&Server{App: demo, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: 50 * time.Millisecond}).Serve)
	conn := transcript.Dial(t, addr)
	br := bufio.NewReader(conn)
	io.WriteString(conn, "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n")
	if status, _, err := readResponse(br, "GET"); err != nil || status != "200 OK" {
		t.Fatalf("got %q, %v; want 200 OK", status, err)
	}
	// Send nothing more: the server must close the kept-alive connection.
	if b, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the idle time-out got %q, %v; want the server to close (io.EOF)", b, err)
	}
}

// The connection stays open across requests, answers each in order, and
// closes after the one that says Connection: close.
func TestKeepAliveUntilConnectionClose(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	conn := transcript.Dial(t, addr)
	br := bufio.NewReader(conn)
	requests := []struct{ method, send, wantBody string }{
		{"GET", "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", "one\ntwo\nthree\n"},
		{"HEAD", "HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n", ""},
		{"POST", "POST /sized HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nunread by", "three chunks, one Content-Length from the app\n"},
		{"GET", "GET /write HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "written with write()\nthen yielded from the body\n"},
	}
	for _, r := range requests {
		io.WriteString(conn, r.send)
		status, body, err := readResponse(br, r.method)
		if err != nil || status != "200 OK" || body != r.wantBody {
			t.Fatalf("%q: got %q %q, %v; want 200 OK %q", r.send, status, body, err, r.wantBody)
		}
	}
	if b, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after Connection: close got %q, %v; want the server to close (io.EOF)", b, err)
	}
}

// events is what a tracked body reports, read while the server runs.
type events struct {
	mu   sync.Mutex
	list []string
	done chan struct{} // closed when the cleanup has run
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

// trackedApp answers with a body that records how it ended. Its path says
// what the body does: /normal ends, /panic panics after a chunk, /endless
// yields until the server stops it.
func trackedApp(e *events) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		startResponse("200 OK", []Header{{"Content-Type", "text/plain"}}, nil)
		path := environ["PATH_INFO"]
		return func(yield func([]byte) bool) {
			defer close(e.done)
			defer e.add("cleanup ran")
			for i := 0; path == "/endless" || i < 3; i++ {
				if path == "/panic" && i == 1 {
					panic("boom")
				}
				if !yield([]byte(strings.Repeat("x", 1024))) {
					e.add("stopped by the server")
					return
				}
			}
		}
	}
}

func TestBodyCleanupRunsOverTheNetwork(t *testing.T) {
	readAll := func(conn net.Conn) {
		readResponse(bufio.NewReader(conn), "GET")
	}
	readToClose := func(conn net.Conn) { io.ReadAll(conn) }
	leaveEarly := func(conn net.Conn) {
		io.ReadFull(conn, make([]byte, 4096)) // some of the answer, then go
		conn.(*net.TCPConn).SetLinger(0)      // with a reset: the server's next write fails
	}
	tests := []struct {
		path   string
		client func(net.Conn)
		want   []string
	}{
		{"/normal", readAll, []string{"cleanup ran"}},
		{"/panic", readToClose, []string{"cleanup ran"}},
		{"/endless", leaveEarly, []string{"stopped by the server", "cleanup ran"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e := &events{done: make(chan struct{})}
			addr := transcript.Start(t, (&Server{App: trackedApp(e), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)
			conn := transcript.Dial(t, addr)
			io.WriteString(conn, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			tt.client(conn)
			conn.Close()
			select {
			case <-e.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the body's cleanup did not run within 10s")
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if diff := cmp.Diff(tt.want, e.list); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// A client that asks for an endless body and then never reads must not
// hold the server's goroutine: once the socket's buffers are full, the
// write deadline fails the write, the server stops the body, and the
// body's cleanup runs while the client is still connected.
func TestClientThatNeverReadsIsCutLoose(t *testing.T) {
	e := &events{done: make(chan struct{})}
	server := &Server{App: trackedApp(e), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, WriteTimeout: 100 * time.Millisecond}
	addr := transcript.Start(t, server.Serve)
	conn := transcript.Dial(t, addr)
	io.WriteString(conn, "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the body was not stopped within 10s of the client ceasing to read")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if diff := cmp.Diff([]string{"stopped by the server", "cleanup ran"}, e.list); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// brokenApps misbehave in the way their path names.
func brokenApps(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	plain := []Header{{"Content-Type", "text/plain"}}
	switch environ["PATH_INFO"] {
	case "/panic":
		panic("app failed")
	case "/no-start-response":
		return chunks("body without a status")
	case "/nil-body":
		startResponse("200 OK", plain, nil)
		return nil
	case "/hop-by-hop":
		startResponse("200 OK", append(plain, Header{"Connection", "close"}), nil)
	case "/crlf-in-header":
		startResponse("200 OK", append(plain, Header{"X-Evil", "a\r\nInjected: yes"}), nil)
	case "/start-twice":
		startResponse("200 OK", plain, nil)
		startResponse("201 Created", plain, nil)
	case "/panic-after-body":
		startResponse("200 OK", plain, nil)
		return thenPanic("body failed", "half a body")
	case "/short-body":
		startResponse("200 OK", append(plain, Header{"Content-Length", "100"}), nil)
		return chunks("only 6")
	case "/write-error":
		write := startResponse("200 OK", plain, nil)
		if err := write([]byte("written")); err != nil {
			panic(err)
		}
		panic(errors.New("failed after write()"))
	}
	return demo(environ, startResponse)
}

// No request can crash the server or leave it stuck: after each bad case,
// a refused request or a broken app, a good GET still gets its 200.
func TestServerSurvivesBadInput(t *testing.T) {
	all, err := transcript.LoadDir("testdata/transcripts")
	if err != nil {
		t.Fatal(err)
	}
	addr := transcript.Start(t, (&Server{App: brokenApps, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)
	stillServing := func(t *testing.T) {
		t.Helper()
		status, err := get(addr, 10*time.Second)
		if err != nil || status != "HTTP/1.1 200 OK\r\n" {
			t.Errorf("afterwards a good GET got %q, %v; want HTTP/1.1 200 OK", status, err)
		}
	}
	refused := regexp.MustCompile(`^HTTP/1\.1 [45]\d\d `)
	for _, tr := range all {
		if !refused.Match(tr.Exchanges[0].Response) || needsItsOwnServer(tr) { // step07: shipping_test.go
			continue // only the transcripts of refused requests
		}
		t.Run(tr.Name, func(t *testing.T) {
			got, err := transcript.Replay(addr, tr)
			if err != nil || len(got) == 0 || !refused.Match(got[0]) {
				t.Errorf("got %q, %v; want a 4xx or 5xx response", got, err)
			}
			stillServing(t)
		})
	}
	for _, tt := range []struct{ name, send string }{
		{"reset inside the request line", "GET / HT"},
		{"reset inside a field line", "GET / HTTP/1.1\r\nHo"},
		{"reset inside an endless line", "GET /" + strings.Repeat("a", 20<<10)},
		{"reset inside a body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel"},
		{"reset after a pipelined request", "GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hangUp(t, addr, tt.send)
			stillServing(t)
		})
	}
	for _, path := range []string{"/panic", "/no-start-response", "/nil-body", "/hop-by-hop", "/crlf-in-header",
		"/start-twice", "/panic-after-body", "/short-body", "/write-error", "/error-before", "/error-after"} {
		t.Run("app "+path, func(t *testing.T) {
			got, err := rawExchange(addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			if err != nil || !strings.HasPrefix(got, "HTTP/1.1 ") {
				t.Errorf("got %q, %v; want a response (or its start), then the close", got, err)
			}
			stillServing(t)
		})
	}
}

// The server's own answers to a request whose head it parsed (a framing
// it refuses, a body that breaks while the app reads it) follow the
// client's Accept by the error pages' rule, and a JSON answer is the very
// body ErrorPage makes. A head it refuses is plain text whatever it asks.
func TestServerRefusalsFollowAccept(t *testing.T) {
	readsItsBody := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		io.Copy(io.Discard, environ["wsgi.input"].(io.Reader))
		return PlainTextResponse("read it all")(environ, startResponse)
	}
	addr := transcript.Start(t, (&Server{App: readsItsBody, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)
	refusals := []struct {
		name, head, body string // head: the request line and fields, Accept still to come
		code             int
		text             string
		negotiated       bool // false: the head itself is refused
	}{
		{"a declared body over the limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n", "",
			413, "request body is larger than 1048576 bytes", true},
		{"a transfer coding it lacks", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n",
			501, `transfer coding "gzip" is not implemented`, true},
		{"a bad chunk size, read by the app", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", "zz\r\n",
			400, "chunk size must be hex digits", true},
		{"a head without Host", "GET / HTTP/1.1\r\n", "",
			400, "missing Host header", false},
	}
	accepts := []struct {
		lines    []string // Accept field lines, in order
		wantJSON bool
	}{
		{nil, false},
		{[]string{"*/*"}, false},
		{[]string{"application/json"}, true},
		{[]string{"application/problem+json"}, true},
		{[]string{"text/html,application/json"}, false},
		{[]string{"text/plain", "Application/JSON"}, true}, // two lines, read as one list
		{[]string{"application/json", "text/html"}, false},
	}
	for _, r := range refusals {
		for _, a := range accepts {
			t.Run(fmt.Sprintf("%s, Accept %q", r.name, a.lines), func(t *testing.T) {
				request := r.head
				for _, line := range a.lines {
					request += "Accept: " + line + "\r\n"
				}
				got, err := rawExchange(addr, request+"\r\n"+r.body)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
				if err != nil {
					t.Fatalf("%q: %v", got, err)
				}
				body, _ := io.ReadAll(resp.Body)
				wantType, wantBody := "text/plain; charset=utf-8", r.text+"\n"
				if a.wantJSON && r.negotiated {
					_, headers, page, _, _ := callApp(ErrorPage(r.code, r.text), Environ{"HTTP_ACCEPT": "application/json"})
					wantType, wantBody = headers[0].Value, string(page)
				}
				if diff := cmp.Diff([]any{r.code, wantType, wantBody}, []any{resp.StatusCode, resp.Header.Get("Content-Type"), string(body)}); diff != "" {
					t.Errorf("status, Content-Type, body (-want +got):\n%s", diff)
				}
			})
		}
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
	addr := transcript.Start(t, (&Server{App: app, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)
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
