package main

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"example.com/wsgicourse/transcript"
)

func TestCgroupMemoryLimit(t *testing.T) {
	const v1, v2 = "sys/fs/cgroup/memory/memory.limit_in_bytes", "sys/fs/cgroup/memory.max"
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  int64
	}{
		{"v2 number", fstest.MapFS{v2: {Data: []byte("314572800\n")}}, 300 << 20},
		{"v2 max", fstest.MapFS{v2: {Data: []byte("max\n")}}, 0},
		{"v1 number", fstest.MapFS{v1: {Data: []byte("314572800\n")}}, 300 << 20},
		{"v1 no limit", fstest.MapFS{v1: {Data: []byte("9223372036854771712\n")}}, 0},
		{"v2 is read before v1", fstest.MapFS{v2: {Data: []byte("max\n")}, v1: {Data: []byte("314572800\n")}}, 0},
		{"garbage", fstest.MapFS{v1: {Data: []byte("lots\n")}}, 0},
		{"no cgroup files", fstest.MapFS{}, 0},
	} {
		if got := cgroupMemoryLimit(tc.files); got != tc.want {
			t.Errorf("%s: cgroupMemoryLimit = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// memoryLimit sets the process's memory limit: the test puts it back.
func TestMemoryLimitTellsTheCollector(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	noEnv := func(string) string { return "" }

	container := fstest.MapFS{"sys/fs/cgroup/memory.max": {Data: []byte("314572800\n")}}
	limit, from := memoryLimit(noEnv, container)
	if want := int64(300 << 20 * goShare); limit != want || debug.SetMemoryLimit(-1) != want {
		t.Errorf("in a 300 MiB container: limit %d (%s), Go's limit %d; want both %d", limit, from, debug.SetMemoryLimit(-1), want)
	}

	// GOMEMLIMIT has been read by the runtime at start-up; here the test
	// stands in for it. The cgroup is then not asked.
	debug.SetMemoryLimit(100 << 20)
	gomemlimit := func(name string) string { return map[string]string{"GOMEMLIMIT": "100MiB"}[name] }
	if limit, from := memoryLimit(gomemlimit, container); limit != 100<<20 || from != "GOMEMLIMIT" {
		t.Errorf("with GOMEMLIMIT=100MiB: %d (%s), want %d (GOMEMLIMIT)", limit, from, 100<<20)
	}
	debug.SetMemoryLimit(math.MaxInt64) // GOMEMLIMIT=off
	if limit, _ := memoryLimit(gomemlimit, container); limit != 0 {
		t.Errorf("with GOMEMLIMIT=off: limit %d, want 0 (no budget)", limit)
	}

	debug.SetMemoryLimit(before)
	if limit, _ := memoryLimit(noEnv, fstest.MapFS{}); limit != 0 || debug.SetMemoryLimit(-1) != before {
		t.Errorf("with no limit anywhere: %d, and Go's limit became %d; want 0 and Go's left alone", limit, debug.SetMemoryLimit(-1))
	}
}

func TestBodyMemory(t *testing.T) {
	heads := int64(256 * (worstCasePerConnection - maxBodyBytes))
	if got, want := bodyMemory(270<<20, 256), 270<<20-goBaseline-heads; got != want {
		t.Errorf("bodyMemory(270 MiB, 256) = %d, want %d: the limit less the runtime and 256 heads", got, want)
	}
	if got, want := bodyMemory(20<<20, 256), int64(bodyShare*maxBodyBytes); got != want {
		t.Errorf("bodyMemory(20 MiB, 256) = %d, want %d: room for one body of the largest size", got, want)
	}
}

// uploadApp reads the body; the first hold requests then wait in the
// app, holding their share of the budget, until release is closed.
func uploadApp(hold int32, entered chan<- struct{}, release <-chan struct{}) App {
	var calls atomic.Int32
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		body, _ := io.ReadAll(environ["wsgi.input"].(io.Reader))
		if calls.Add(1) <= hold {
			entered <- struct{}{}
			<-release
		}
		startResponse("200 OK", []Header{textPlainUTF8}, nil)
		return func(yield func([]byte) bool) { yield(fmt.Appendf(nil, "%d bytes\n", len(body))) }
	}
}

func upload(size int) string {
	return fmt.Sprintf("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", size, strings.Repeat("x", size))
}

// send writes req on conn and reads one response from br.
func send(t *testing.T, conn net.Conn, br *bufio.Reader, req string) (*http.Response, string) {
	t.Helper()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s cut short: %v", resp.Status, err)
	}
	return resp, string(body)
}

func TestBodyBudgetRefusesUploadsThatDoNotFit(t *testing.T) {
	const size = 1000
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{App: uploadApp(2, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour,
		BodyMemory: 2 * bodyShare * size} // room for two such bodies
	addr := transcript.Start(t, srv.Serve)

	// Two uploads fit: they reach the app and wait there.
	var held []net.Conn
	for range 2 {
		conn := transcript.Dial(t, addr)
		io.WriteString(conn, upload(size))
		<-entered
		held = append(held, conn)
	}
	// The next ones do not: a 503 at once, whose connection then closes.
	for range 3 {
		conn := transcript.Dial(t, addr)
		br := bufio.NewReader(conn)
		resp, body := send(t, conn, br, upload(size))
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !resp.Close || resp.Header.Get("Date") == "" ||
			body != "the server is short of memory for request bodies; try again in a second\n" {
			t.Fatalf("an upload beyond the budget got %s %v %q; want 503, Retry-After: 1, Date, Connection: close and the reason", resp.Status, resp.Header, body)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("after the 503 the connection read %v; want it closed (EOF)", err)
		}
	}
	// A HEAD gets the same answer, without its body.
	head := transcript.Dial(t, addr)
	io.WriteString(head, strings.Replace(upload(size), "POST", "HEAD", 1))
	if got, _ := io.ReadAll(head); !strings.HasPrefix(string(got), "HTTP/1.1 503 ") || !strings.HasSuffix(string(got), "\r\n\r\n") {
		t.Errorf("a HEAD beyond the budget got %q; want a 503 head and no body", got)
	}
	// A request without a body needs no share: the server keeps serving.
	if status := request(t, transcript.Dial(t, addr), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); status != "HTTP/1.1 200 OK\r\n" {
		t.Errorf("a GET while the budget is full got %q, want 200", status)
	}
	// Once a response is out its share is back: the next upload on the same
	// connection (read only after the last one's release) is admitted.
	close(release)
	for _, conn := range held {
		br := bufio.NewReader(conn)
		for i := range 2 {
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("upload %d on a connection that was admitted: %v, %v; want 200", i+1, resp, err)
			}
			io.Copy(io.Discard, resp.Body)
			if i == 0 {
				io.WriteString(conn, upload(size))
			}
		}
	}
}

func TestChunkedBodyReservesTheLargestShare(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	srv := &Server{App: uploadApp(1, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour,
		BodyMemory: bodyShare * maxBodyBytes} // room for one body of the largest size
	addr := transcript.Start(t, srv.Serve)
	io.WriteString(transcript.Dial(t, addr), "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
	<-entered
	conn := transcript.Dial(t, addr)
	if resp, _ := send(t, conn, bufio.NewReader(conn), upload(1)); resp.StatusCode != 503 {
		t.Errorf("a one-byte upload while a chunked one holds the budget got %s, want 503: a chunked body may grow to maxBodyBytes", resp.Status)
	}
}
