package main

// The cap (limit.go), the tracker behind it and the shutdown (shutdown.go),
// and the probe (healthcheck.go), each pinned by what a client sees. No
// test here waits on the clock: every timeout is an hour, except the
// probe's in TestProbeHasADeadline, which is the thing under test; where
// the server must catch up with what a client did (a close, a state
// change), the test polls for it, bounded.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

const (
	ok200  = "HTTP/1.1 200 OK\r\n"
	full   = "HTTP/1.1 503 Service Unavailable\r\n"
	getNow = "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n"
)

// patiently polls cond every 10ms until it holds, for at most 10s.
func patiently(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 6000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after 60s, still not: %s", what)
}

// idleCount is how many of srv's connections wait for a request.
func idleCount(srv *Server) int {
	srv.conns.mu.Lock()
	defer srv.conns.mu.Unlock()
	n := 0
	for _, c := range srv.conns.conns {
		if c.state == idle {
			n++
		}
	}
	return n
}

// closedByServer reports whether the server has already closed conn (a
// read gets EOF, or a reset, at once). Call it once the close must have
// happened; the 10s only keeps a connection left open from hanging the test.
func closedByServer(conn net.Conn) bool {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := conn.Read(make([]byte, 1))
	var netErr net.Error
	return err != nil && !(errors.As(err, &netErr) && netErr.Timeout())
}

// A full server whose connections only wait: the new client is served,
// and the connection that has waited longest, not the other, is closed
// without a word. A silent new connection waits as much as a kept-alive one.
func TestCapClosesTheLongestIdleToAdmitANewClient(t *testing.T) {
	srv := &Server{App: demo, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	addr := transcript.Start(t, func(ln net.Listener) error { return srv.Serve(limitConns(ln, 2, srv.evictIdle)) })

	silent := transcript.Dial(t, addr) // connected, says nothing
	patiently(t, "the silent connection is waiting", func() bool { return idleCount(srv) == 1 })
	keptAlive := transcript.Dial(t, addr)
	if status := request(t, keptAlive, getNow); status != ok200 {
		t.Fatalf("the second client got %q, want 200", status)
	}
	patiently(t, "both connections are waiting", func() bool { return idleCount(srv) == 2 })

	if status := request(t, transcript.Dial(t, addr), getNow); status != ok200 {
		t.Fatalf("a new client at the cap, with every connection idle, got %q, want 200", status)
	}
	all, err := io.ReadAll(silent)
	if len(all) != 0 || err != nil {
		t.Errorf("the longest-waiting connection got %q, %v; want a close without a word", all, err)
	}
	if status := request(t, keptAlive, getNow); status != ok200 {
		t.Errorf("the connection that had waited less got %q on its next request, want 200 (it should be left open)", status)
	}
}

// A full server whose every connection (the cap's and the probe's
// reserve) has a request in progress: a new client gets the 503, then the
// close, and a refusal holds nothing: the next refusals get their 503 too,
// and once the held requests end, new clients are served.
func TestCapRefusesOnlyWhenEveryConnectionIsBusy(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{App: heldOnRequest(demo, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	addr, accepted := startCapped(t, srv, 1)
	held := []net.Conn{hold(t, addr, "/sized", entered)}
	for range probeReserve {
		held = append(held, hold(t, addr, "/healthz", entered))
	}
	for i := range 5 { // more than the cap's refusals at a time (1), and than the reserve
		conn := transcript.Dial(t, addr)
		// A refusal's lingering close waits for the client's close; the
		// token it holds comes back a moment after, so a refusal may meet
		// a plain close until then: retry (bounded).
		got := ""
		patiently(t, "a refused client gets its 503", func() bool {
			all, err := io.ReadAll(conn)
			got = string(all)
			conn.Close()
			if strings.HasPrefix(got, full) && err == nil {
				return true
			}
			conn = transcript.Dial(t, addr)
			return false
		})
		if !strings.Contains(got, "Connection: close\r\n") {
			t.Errorf("refusal %d: %q, want a 503 with Connection: close", i, got)
		}
	}
	patiently(t, "the server has closed every refused connection", func() bool { return accepted.open() == len(held) })

	close(release)
	for _, conn := range held {
		conn.Close()
	}
	patiently(t, "the held connections are closed", func() bool { return accepted.open() == 0 })
	// Each new client is kept alive, so the next one finds it idle.
	for i := range 5 {
		if status := request(t, transcript.Dial(t, addr), getNow); status != ok200 {
			t.Fatalf("client %d after the held requests ended got %q, want 200 (a slot was not given back)", i, status)
		}
		patiently(t, "the client waits for its next request", func() bool { return idleCount(srv) == 1 })
	}
}

// startCapped serves srv with a cap of max and returns its address and
// the count of the connections it holds open.
func startCapped(t *testing.T, srv *Server, max int) (string, *recorder) {
	accepted := &recorder{}
	addr := transcript.Start(t, func(ln net.Listener) error {
		return srv.Serve(limitConns(accepted.wrap(ln), max, srv.evictIdle))
	})
	return addr, accepted
}

// recorder wraps a listener and counts the connections it accepted that
// the server has not closed yet.
type recorder struct {
	mu   sync.Mutex
	live int
}

func (r *recorder) wrap(ln net.Listener) net.Listener { return recordingListener{ln, r} }

func (r *recorder) open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
}

type recordingListener struct {
	net.Listener
	r *recorder
}

func (l recordingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.r.mu.Lock()
		l.r.live++
		l.r.mu.Unlock()
		conn = &recordedConn{TCPConn: conn.(*net.TCPConn), r: l.r}
	}
	return conn, err
}

type recordedConn struct {
	*net.TCPConn
	r    *recorder
	once sync.Once
}

func (c *recordedConn) Close() error {
	c.once.Do(func() {
		c.r.mu.Lock()
		c.r.live--
		c.r.mu.Unlock()
	})
	return c.TCPConn.Close()
}

// The probe gets its 200 from a server whose every slot is busy, by the
// reserve; any other request on the reserve gets the 503 (a HEAD without
// its body), so a proxy on loopback cannot take the probe's way in.
func TestProbeGetsThroughWhenEverySlotIsBusy(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	srv := &Server{App: heldOnRequest(demo, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	addr, accepted := startCapped(t, srv, 2)
	hold(t, addr, "/sized", entered)
	hold(t, addr, "/sized", entered)
	// Between two tries, the server closes the last one's connection,
	// which gives its reserve slot back.
	reserveFree := func() bool { return accepted.open() == 2 }
	for i := range 2 * probeReserve {
		if err := probe(addr); err != nil {
			t.Fatalf("probe %d of a server busy at its cap = %v, want nil", i, err)
		}
		patiently(t, "the probe's connection is closed", reserveFree)
	}
	onReserve := transcript.Dial(t, addr)
	if status := request(t, onReserve, getNow); status != full {
		t.Errorf("GET /sized on the probe's reserve got %q, want the 503", status)
	}
	onReserve.Close()
	patiently(t, "the refused connection is closed", reserveFree)
	head := transcript.Dial(t, addr)
	io.WriteString(head, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if all, _ := io.ReadAll(head); !strings.HasPrefix(string(all), full) || !strings.HasSuffix(string(all), "\r\n\r\n") {
		t.Errorf("HEAD /healthz on the probe's reserve got %q, want the 503's head and no body", all)
	}
}

// A connection from elsewhere than loopback cannot be made in a test
// (every client here is on loopback), so fromLoopback is asked directly.
func TestOnlyLoopbackUsesTheReserve(t *testing.T) {
	for _, tt := range []struct {
		ip   string
		want bool
	}{{"127.0.0.1", true}, {"::1", true}, {"172.17.0.1", false}, {"::ffff:10.0.0.1", false}} {
		conn := fakeConn{remote: &net.TCPAddr{IP: net.ParseIP(tt.ip), Port: 5000}}
		if got := fromLoopback(conn); got != tt.want {
			t.Errorf("fromLoopback(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

type fakeConn struct {
	net.Conn
	remote net.Addr
}

func (c fakeConn) RemoteAddr() net.Addr { return c.remote }

// -max-conns 0 is no cap: the listener is the one given, and a server
// with requests in progress still serves the next client.
func TestLimitConnsZeroIsNoCap(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	srv := &Server{App: heldOnRequest(demo, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
	addr := transcript.Start(t, func(ln net.Listener) error { return srv.Serve(limitConns(ln, 0, srv.evictIdle)) })
	for range 3 {
		hold(t, addr, "/sized", entered)
	}
	if status := request(t, transcript.Dial(t, addr), getNow); status != ok200 {
		t.Errorf("with -max-conns 0 and 3 requests held, a new client got %q, want 200", status)
	}
}

// The default cap is 256, and run puts the cap it is given in front of
// the server: at -max-conns 1, with one request in progress, the next
// client gets the 503; with one silent connection, the next client gets
// its 200 and the silent one is closed.
func TestRunCapsConnections(t *testing.T) {
	s, err := parseArgs(nil, io.Discard, func(string) string { return "" })
	if err != nil || s.maxConns != 256 {
		t.Errorf("the default -max-conns is %d (%v), want 256", s.maxConns, err)
	}
	line := transcript.StartMain(t, run, "-addr", "127.0.0.1:0", "-max-conns", "1", "-body-timeout", "1h", "-quiet")
	addr := strings.TrimSuffix(strings.TrimPrefix(line, "step08-python serving on http://"), "/")
	holder := transcript.Dial(t, addr)
	// The body is announced and never sent: the app waits for it, which
	// the server shows by sending 100 Continue. The request is in progress.
	io.WriteString(holder, "POST /environ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	if got, err := io.ReadFull(holder, make([]byte, len("HTTP/1.1 100 Continue\r\n\r\n"))); err != nil {
		t.Fatalf("the holder got %d bytes, %v; want 100 Continue", got, err)
	}
	if status := request(t, transcript.Dial(t, addr), getNow); status != full {
		t.Errorf("run -max-conns 1 with a request in progress: a new client got %q, want the 503", status)
	}

	line = transcript.StartMain(t, run, "-addr", "127.0.0.1:0", "-max-conns", "1", "-header-timeout", "1h", "-quiet")
	addr = strings.TrimSuffix(strings.TrimPrefix(line, "step08-python serving on http://"), "/")
	silent := transcript.Dial(t, addr)
	// The silent connection is idle once its handler has begun to wait,
	// a moment after the accept: until then a new client gets the 503.
	patiently(t, "a new client gets 200 from run -max-conns 1 with a silent connection", func() bool {
		return request(t, transcript.Dial(t, addr), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == ok200
	})
	if !closedByServer(silent) {
		t.Errorf("the silent connection is still open after a new client took its slot")
	}
}

// serveUntil closes the listener when its context ends: while a request
// is still in flight (the server draining), a new connection is refused
// by the kernel. When the request is done, serveUntil returns nil.
func TestServeUntilClosesTheListenerFirst(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{App: heldOnRequest(demo, entered, release), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveUntil(ctx, srv, srv.Serve, ln, time.Hour, io.Discard) }()
	held := hold(t, ln.Addr().String(), "/sized", entered)
	cancel()
	patiently(t, "the server is draining", srv.ShuttingDown) // after the listener's close
	if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Errorf("a new connection was accepted while the server drained")
	}
	close(release)
	if status := request(t, held, ""); status != ok200 {
		t.Errorf("the request in flight got %q, want 200", status)
	}
	held.Close()
	if err := <-done; err != nil {
		t.Errorf("serveUntil = %v, want nil", err)
	}
}

// With nothing in flight, Shutdown returns nil at once: it closes what
// waits and does not wait out its deadline (an hour: a Shutdown that
// waited for it would time the test out, not pass).
func TestShutdownWithNothingInFlightReturnsAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := (&Server{}).Shutdown(ctx); err != nil {
		t.Errorf("Shutdown of a server with no connection = %v, want nil", err)
	}
	srv := &Server{App: demo, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	addr := transcript.Start(t, srv.Serve)
	idleConn := transcript.Dial(t, addr)
	if status := request(t, idleConn, getNow); status != ok200 {
		t.Fatalf("got %q, want 200", status)
	}
	patiently(t, "the connection waits for its next request", func() bool { return idleCount(srv) == 1 })
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown of a server with one idle connection = %v, want nil", err)
	}
	if !closedByServer(idleConn) {
		t.Errorf("the idle connection is still open after Shutdown")
	}
}

// -shutdown-timeout 0 is a deadline already past: with only idle
// connections, nothing is cut short, and Shutdown says so with nil.
func TestShutdownAtOnceWithOnlyIdleConnections(t *testing.T) {
	srv := &Server{App: demo, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour}
	addr := transcript.Start(t, srv.Serve)
	for range 3 {
		if status := request(t, transcript.Dial(t, addr), getNow); status != ok200 {
			t.Fatalf("got %q, want 200", status)
		}
	}
	patiently(t, "three connections wait for their next request", func() bool { return idleCount(srv) == 3 })
	past, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if err := srv.Shutdown(past); err != nil {
		t.Errorf("Shutdown past its deadline with only idle connections = %v, want nil (nothing was cut)", err)
	}
}

// The probe gives up on a server that accepts and never answers, after
// probeTimeout: the deadline is what this test is about, so it is short.
func TestProbeHasADeadline(t *testing.T) {
	defer func(d time.Duration) { probeTimeout = d }(probeTimeout)
	probeTimeout = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // open, and silent, until the test ends
		}
	}()
	if err := probe(ln.Addr().String()); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("probe of a server that never answers = %v, want its deadline exceeded", err)
	}
}

// serverAddr reads PID 1's command line and environment from a /proc of
// the test's making.
func TestProbeFindsTheServersAddress(t *testing.T) {
	const self, own = "/step07", "127.0.0.1:7000" // own: what the probe was given
	tests := []struct {
		name     string
		cmdline  []string // PID 1's; nil: no /proc/1
		environ  []string
		wantAddr string
	}{
		{"PID 1 is the server, with -addr", []string{self, "-addr", ":9000", "-max-conns", "8"}, nil, ":9000"},
		{"PID 1 is the server, with PORT", []string{self}, []string{"HOSTNAME=c0ffee", "PORT=9100"}, ":9100"},
		{"PID 1 is the server, with ADDR and other flags", []string{self, "-quiet"}, []string{"ADDR=127.0.0.1:9200"}, "127.0.0.1:9200"},
		{"PID 1 is the server, with no setting", []string{self}, []string{"PATH=/bin"}, ":8082"},
		{"PID 1 is another program", []string{"/sbin/init", "-addr", ":9000"}, nil, own},
		{"PID 1's command line makes no sense to us", []string{self, "stray"}, nil, own},
		{"no /proc", nil, nil, own},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			if tt.cmdline != nil {
				os.Mkdir(filepath.Join(proc, "1"), 0o755)
				write := func(name string, fields []string) {
					var b strings.Builder
					for _, f := range fields {
						b.WriteString(f + "\x00")
					}
					if err := os.WriteFile(filepath.Join(proc, "1", name), []byte(b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				write("cmdline", tt.cmdline)
				write("environ", tt.environ)
			}
			if got := serverAddr(proc, self, own); got != tt.wantAddr {
				t.Errorf("serverAddr = %q, want %q", got, tt.wantAddr)
			}
		})
	}
}

// A connection the cap closed is never answered, even when its request's
// first byte came in just before the close (handle's Peek returned, and
// answering is next): its client saw a close without an answer and may
// send the request again, so running the app for it could run it twice.
func TestAnEvictedConnectionIsNotAnswered(t *testing.T) {
	var srv Server
	conn, other := net.Pipe()
	defer other.Close()
	if !srv.waitingFor(conn) {
		t.Fatal("waitingFor of a new connection = false, want true")
	}
	if !srv.evictIdle() {
		t.Fatal("evictIdle with one idle connection = false, want true")
	}
	if srv.answering(conn) {
		t.Error("answering after the cap closed the connection = true, want false")
	}
	if srv.evictIdle() {
		t.Error("evictIdle with no idle connection left = true, want false")
	}
}
