package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// The benchmarks behind the README's numbers: go test ./step08-python -run '^$' -bench . -benchmem
// Each one times an operation that TestREADMEAllocationCounts also counts
// the allocations of, so the README's allocs/op column is checked, not typed.

// curlGET is what curl sends for GET /.
const curlGET = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"

// parseOp parses curl's GET / once.
func parseOp(tb testing.TB) func() {
	r := strings.NewReader(curlGET)
	br := bufio.NewReader(r)
	var req Request     // one per connection, as the server has
	var lines keptLines // the same
	return func() {
		r.Reset(curlGET)
		br.Reset(r)
		if err := readRequest(br, &req, &lines); err != nil {
			tb.Fatal(err)
		}
	}
}

// environOp builds the environ of curl's GET / once, as for the second and
// later requests on a kept-alive connection: what the connection's requests
// share (environOf) is made once, as handle makes it.
func environOp(tb testing.TB) func() {
	req := new(Request)
	if err := readRequest(bufio.NewReader(strings.NewReader(curlGET)), req, nil); err != nil {
		tb.Fatal(err)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8081}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	conn := environOf(local, remote)
	input := &body{}
	return func() {
		if _, err := buildEnvironAt(req, conn, input, io.Discard); err != nil {
			tb.Fatal(err)
		}
	}
}

// routerOp is the demo's routes without a server: the router picks the
// route for path and its App answers, to a start_response that does
// nothing. /hello/world adds the path parameter, the Req and an
// HTMLResponse made per request; /nope, the 404 page.
func routerOp(path string) func() {
	router := routes()
	ignore := func(string, []Header, error) Write { return nil }
	take := func([]byte) bool { return true } // a range loop's body would allocate per request
	environ := Environ{"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "", "wsgi.errors": io.Discard}
	return func() { router.App(environ, ignore)(take) }
}

var routerPaths = []string{"/", "/json", "/hello/world", "/nope"}

// getRootServers are BenchmarkGetRoot's servers: the demo's middleware as
// main serves it with -quiet and with the access log, a bare response, and
// net/http answering the same bytes, the yardstick.
func getRootServers() []struct {
	name, row string // the benchmark's name, and its row in the README
	serve     func(net.Listener)
} {
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
	return []struct {
		name, row string
		serve     func(net.Listener)
	}{
		{"bare response", "bare `PlainTextResponse`", serveWith(PlainTextResponse("Hello, World!"))},
		{"demo -quiet", "demo as with `-quiet`", serveWith(withMiddleware(routes().App, nil, false, randomID))},
		{"demo with access log", "demo with the access log", serveWith(withMiddleware(routes().App, io.Discard, false, randomID))},
		{"net/http", "net/http sending the same bytes", netHTTP},
	}
}

// getOp is one whole GET / over a loopback connection to serve, kept
// alive: the client writes the request and reads the 13-byte answer. The
// client allocates nothing per request, so the allocations are the server's.
func getOp(tb testing.TB, serve func(net.Listener)) func() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go serve(ln)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	request := []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	// The first answer tells how long every answer is.
	conn.Write(request)
	first := make([]byte, 4096)
	n, err := conn.Read(first)
	if err != nil || !bytes.HasSuffix(first[:n], []byte("\r\n\r\nHello, World!")) {
		tb.Fatalf("got %q, %v; want one whole response ending in Hello, World!", first[:n], err)
	}
	answer := make([]byte, n)
	return func() {
		conn.Write(request)
		if _, err := io.ReadFull(conn, answer); err != nil {
			tb.Fatal(err)
		}
	}
}

func bench(b *testing.B, op func()) {
	b.ReportAllocs()
	for b.Loop() {
		op()
	}
}

func BenchmarkParseRequest(b *testing.B) { bench(b, parseOp(b)) }
func BenchmarkBuildEnviron(b *testing.B) { bench(b, environOp(b)) }

func BenchmarkRouter(b *testing.B) {
	for _, path := range routerPaths {
		b.Run(path, func(b *testing.B) { bench(b, routerOp(path)) })
	}
}

func BenchmarkGetRoot(b *testing.B) {
	for _, tt := range getRootServers() {
		b.Run(tt.name, func(b *testing.B) { bench(b, getOp(b, tt.serve)) })
	}
}

// TestREADMEAllocationCounts counts the allocations of each benchmark's
// operation and checks the README's allocs/op column against them. The
// prose leans on these counts (what the request id and Recover add, the
// environ's share), so a change that adds one must change the README too.
// It counts, it does not time: the number is the same on any machine with
// the same Go release (the README says which).
func TestREADMEAllocationCounts(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector allocates on its own; .ci/run runs this test again without -race")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name string // as in the README's table
		op   func()
	}{
		{"BenchmarkParseRequest (curl's GET /)", parseOp(t)},
		{"BenchmarkBuildEnviron", environOp(t)},
		{"BenchmarkRouter `/`", routerOp("/")},
		{"BenchmarkRouter `/json`", routerOp("/json")},
		{"BenchmarkRouter `/hello/world`", routerOp("/hello/world")},
		{"BenchmarkRouter `/nope` (a 404 page)", routerOp("/nope")},
	}
	for _, s := range getRootServers() {
		if s.name == "net/http" {
			continue // its count moves between runs (its own goroutines); the README gives the range
		}
		rows = append(rows, struct {
			name string
			op   func()
		}{"BenchmarkGetRoot, " + s.row, getOp(t, s.serve)})
	}
	for _, r := range rows {
		name, op := r.name, r.op
		t.Run(name, func(t *testing.T) {
			row := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(name) + ` \| [^|]+ \| [^|]+ \| (\d+) \|$`).FindSubmatch(readme)
			if row == nil {
				t.Fatalf("README.md's benchmark table has no row %q", name)
			}
			if got := allocsPerOp(op); fmt.Sprint(got) != string(row[1]) {
				t.Errorf("README.md says %s allocations per op for %s; it makes %d (%s)", row[1], name, got, runtime.Version())
			}
		})
	}
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	return ok && slices.ContainsFunc(info.Settings, func(s debug.BuildSetting) bool { return s.Key == "-race" && s.Value == "true" })
}

// allocsPerOp counts the allocations of op, made 1000 times, as
// testing.AllocsPerRun does, but rounded rather than cut: for a request
// over loopback the server's last allocations (after its answer went out)
// fall outside the count and its first ones inside, so the total is off
// by less than one request's worth.
func allocsPerOp(op func()) int {
	const runs = 1000
	op() // warm up: the first call may make what later calls reuse
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		op()
	}
	runtime.ReadMemStats(&after)
	return int(math.Round(float64(after.Mallocs-before.Mallocs) / runs))
}
