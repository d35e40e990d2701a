package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The benchmarks behind the README's numbers: go test ./step08-python -run '^$' -bench . -benchmem

// curlGET is what curl sends for GET /.
const curlGET = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"

func BenchmarkParseRequest(b *testing.B) {
	r := strings.NewReader(curlGET)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(curlGET)
		br.Reset(r)
		if _, err := readRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildEnviron(b *testing.B) {
	req, err := readRequest(bufio.NewReader(strings.NewReader(curlGET)))
	if err != nil {
		b.Fatal(err)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8081}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildEnviron(req, local, remote, &body{}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRouter is the demo's routes without a server: the router picks
// the route and its App answers, to a start_response that does nothing.
// /hello/world adds the path parameter, the Req and an HTMLResponse made
// per request; /nope, the 404 page.
func BenchmarkRouter(b *testing.B) {
	router := routes()
	ignore := func(string, []Header, error) Write { return nil }
	take := func([]byte) bool { return true } // a range loop's body would allocate per request
	for _, path := range []string{"/", "/json", "/hello/world", "/nope"} {
		b.Run(path, func(b *testing.B) {
			environ := Environ{"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "", "wsgi.errors": io.Discard}
			b.ReportAllocs()
			for b.Loop() {
				router.App(environ, ignore)(take)
			}
		})
	}
}

// BenchmarkGetRoot is one whole GET / over a loopback connection, kept
// alive: the client writes the request and reads the 13-byte answer. The
// allocations counted are the server's (the client allocates nothing per
// request) and include the demo's middleware, as main serves it with -quiet.
// net/http answering the same bytes is the yardstick.
func BenchmarkGetRoot(b *testing.B) {
	serveWith := func(app App) func(net.Listener) {
		return func(ln net.Listener) {
			(&Server{App: app, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}).Serve(ln)
		}
	}
	hello := []byte("Hello, World!")
	netHTTP := func(ln net.Listener) {
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Server"] = []string{serverSoftware}
			h["Content-Type"] = []string{"text/plain; charset=utf-8"}
			h["Content-Length"] = []string{"13"}
			h["X-Request-Id"] = []string{randomID()}
			w.Write(hello)
		}))
	}
	for _, tt := range []struct {
		name  string
		serve func(net.Listener)
	}{
		{"bare response", serveWith(PlainTextResponse("Hello, World!"))},
		{"demo -quiet", serveWith(withMiddleware(routes().App, nil, false, randomID))},
		{"demo with access log", serveWith(withMiddleware(routes().App, io.Discard, false, randomID))},
		{"net/http", netHTTP},
	} {
		b.Run(tt.name, func(b *testing.B) { benchmarkGet(b, tt.serve) })
	}
}

func benchmarkGet(b *testing.B, serve func(net.Listener)) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go serve(ln)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	request := []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	// The first answer tells how long every answer is.
	conn.Write(request)
	first := make([]byte, 4096)
	n, err := conn.Read(first)
	if err != nil || !bytes.HasSuffix(first[:n], []byte("\r\n\r\nHello, World!")) {
		b.Fatalf("got %q, %v; want one whole response ending in Hello, World!", first[:n], err)
	}
	answer := make([]byte, n)
	b.ReportAllocs()
	for b.Loop() {
		conn.Write(request)
		if _, err := io.ReadFull(conn, answer); err != nil {
			b.Fatal(err)
		}
	}
}
