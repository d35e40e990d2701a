package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// A body cut short is the client's error, and the server answers it
// itself (400 when the client stopped, 408 when it stalled past the body
// timeout), whatever the app made of half a body. The access log says what
// the client got, and wsgi.errors stays quiet: no server fault happened.
func TestAccessLogShowsTheStatusTheClientGot(t *testing.T) {
	tests := []struct {
		name        string
		path        string        // /echo: the framework's handler; /environ: a raw WSGI app that answers 200 whatever it read
		bodyTimeout time.Duration // step07: the only deadline that may fire is the one under test
		halfClose   bool          // the client stops sending: the body is cut short
		want        string
	}{
		{"/echo, the client stops sending mid-body", "/echo", time.Hour, true, "400 Bad Request"},
		{"/echo, the client stalls mid-body past the body timeout", "/echo", 200 * time.Millisecond, false, "408 Request Timeout"},
		{"/environ, the client stops sending mid-body", "/environ", time.Hour, true, "400 Bad Request"},
		{"/environ, the client stalls mid-body past the body timeout", "/environ", 200 * time.Millisecond, false, "408 Request Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			post := "POST " + tt.path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n[1,"
			var log, errs lockedBuffer
			app := withMiddleware(routes().App, &log, false, fixedID)
			addr := transcript.Start(t, (&Server{App: app, Errors: &errs, HeaderTimeout: time.Hour, BodyTimeout: tt.bodyTimeout, IdleTimeout: time.Hour, WriteTimeout: time.Hour}).Serve)
			conn := transcript.Dial(t, addr)
			io.WriteString(conn, post)
			if tt.halfClose {
				conn.(*net.TCPConn).CloseWrite()
			}
			all, _ := io.ReadAll(conn) // the server answers, then closes
			if !strings.HasPrefix(string(all), "HTTP/1.1 "+tt.want+"\r\n") {
				t.Fatalf("the server answered %q, want %s", all, tt.want)
			}
			code := tt.want[:3]
			pattern := regexp.MustCompile(`^127\.0\.0\.1 POST "` + tt.path + `" ` + code + ` \d+ \d+µs\n$`)
			// The line is written when the app's body ends, before the server sends the answer.
			if got := log.String(); !pattern.MatchString(got) {
				t.Errorf("the client got %s, but the access log says %q", code, got)
			}
			if errs.String() != "" {
				t.Errorf("wsgi.errors got %q for the client's own broken body, want nothing", errs.String())
			}
		})
	}
}

// stuckOutput is a stdout that nobody reads: Write blocks until the test
// closes release, as a write to a full pipe does until its reader reads.
type stuckOutput struct {
	release chan struct{}
	lockedBuffer
}

func (o *stuckOutput) Write(p []byte) (int, error) {
	<-o.release
	return o.lockedBuffer.Write(p)
}

// A stuck stdout must not stop the server: with an output that never
// returns, every request on a kept-alive connection is still answered,
// the lines that do not fit are dropped, and once the output moves again
// the log says how many, so that every request is either a line or counted.
func TestAStuckLogHoldsNoRequest(t *testing.T) {
	// Lines of about 6 KiB, more of them than logBufferBytes holds.
	path := "/" + strings.Repeat("x", 6000)
	requests := logBufferBytes/len(path) + 16
	out := &stuckOutput{release: make(chan struct{})}
	log := newLogWriter(out)
	// The access log writes a request's line after its answer has gone
	// out, so the client can read the last answer before its line reaches
	// the logWriter: the test waits for every line to be handed over.
	handed := &countingWriter{w: log}
	app := withMiddleware(routes().App, handed, false, fixedID)
	addr := transcript.Start(t, (&Server{App: app, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour, WriteTimeout: time.Hour}).Serve)
	conn := transcript.Dial(t, addr)
	conn.SetDeadline(time.Now().Add(time.Minute)) // a guard: without it, a server stuck in its log hangs the test
	br := bufio.NewReader(conn)
	for i := range requests {
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if status, _, err := readResponse(br, "GET"); err != nil || status != "404 Not Found" {
			t.Fatalf("request %d of %d: %q, %v (the server waits for its log?)", i+1, requests, status, err)
		}
	}
	for i := 0; handed.count() < requests; i++ {
		if i == 6000 {
			t.Fatalf("after a minute the access log had written %d lines of %d", handed.count(), requests)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(out.release)
	log.Flush(time.Hour)

	lines := strings.SplitAfter(out.String(), "\n")
	logged := 0
	for _, line := range lines[:len(lines)-1] {
		if strings.HasPrefix(line, `127.0.0.1 GET "`+path+`" 404 `) {
			logged++
		}
	}
	report := regexp.MustCompile(`(?m)^\* log: (\d+) lines dropped: the output did not keep up$`).FindAllStringSubmatch(out.String(), -1)
	if len(report) != 1 {
		t.Fatalf("want one line that counts the dropped lines, got %d in:\n%.300s", len(report), out.String())
	}
	dropped, _ := strconv.Atoi(report[0][1])
	if dropped == 0 || logged+dropped != requests || len(lines)-1 != logged+1 {
		t.Errorf("%d lines logged and %d dropped (%d lines in all), want some dropped and %d = logged + dropped, and nothing else",
			logged, dropped, len(lines)-1, requests)
	}
}

// countingWriter counts the Write calls that reach w (the access log
// writes one line per call).
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	defer c.n.Add(1)
	return c.w.Write(p)
}

func (c *countingWriter) count() int { return int(c.n.Load()) }

// overlapDetector is an output that notices two Write calls at once: on a
// real file or pipe, two lines written at once can interleave. Each Write
// lingers a little, so that a second caller would meet it there.
type overlapDetector struct {
	inWrite    atomic.Int32
	overlapped atomic.Bool
	lockedBuffer
}

func (d *overlapDetector) Write(p []byte) (int, error) {
	if d.inWrite.Add(1) > 1 {
		d.overlapped.Store(true)
	}
	defer d.inWrite.Add(-1)
	for range 20 {
		runtime.Gosched()
	}
	return d.lockedBuffer.Write(p)
}

// Many connections log at once, and each line comes out whole: the access
// log writes under its lock, and a logWriter has one goroutine that writes,
// however many write to it (in step 07 the shutdown's lines too).
func TestLogLinesComeOutWhole(t *testing.T) {
	const goroutines, each = 32, 20
	line := regexp.MustCompile(`^10\.0\.0\.\d+ GET "/\d+" 200 2 \d+µs\n$`)
	accessLog := func(out io.Writer) func(g, i int) {
		app := AccessLog(out)(respond("200 OK", textPlain))
		return func(g, i int) {
			environ := goodEnviron()
			environ["REMOTE_ADDR"], environ["PATH_INFO"] = fmt.Sprintf("10.0.0.%d", g), fmt.Sprintf("/%d", i)
			callApp(app, environ)
		}
	}
	tests := []struct {
		name    string
		through bool                               // a logWriter stands between the writers and the output
		writer  func(out io.Writer) func(g, i int) // what goroutine g does for its line i
	}{
		{"AccessLog, writing to the output itself", false, accessLog},
		{"AccessLog through a logWriter", true, accessLog},
		{"lines written straight to a logWriter", true, func(out io.Writer) func(g, i int) {
			return func(g, i int) { fmt.Fprintf(out, "10.0.0.%d GET \"/%d\" 200 2 0µs\n", g, i) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			detector := &overlapDetector{}
			var out io.Writer = detector
			if tt.through {
				out = newLogWriter(detector)
			}
			write := tt.writer(out)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						write(g, i)
					}
				})
			}
			wg.Wait()
			if l, ok := out.(*logWriter); ok {
				l.Flush(time.Hour)
			}
			if detector.overlapped.Load() {
				t.Error("two Write calls reached the output at once")
			}
			lines := strings.SplitAfter(detector.String(), "\n")
			if len(lines)-1 != goroutines*each {
				t.Errorf("%d lines, want %d", len(lines)-1, goroutines*each)
			}
			for _, l := range lines[:len(lines)-1] {
				if !line.MatchString(l) {
					t.Fatalf("line %q is not one whole access-log line", l)
				}
			}
		})
	}
}

// At exit, lines still waiting get a moment to go out, not for ever: Flush
// gives up on a stuck output once its timeout has passed.
func TestFlushGivesUpOnAStuckOutput(t *testing.T) {
	out := &stuckOutput{release: make(chan struct{})}
	defer close(out.release)
	log := newLogWriter(out)
	fmt.Fprintln(log, "a line the output never takes")
	flushed := make(chan struct{})
	go func() {
		log.Flush(200 * time.Millisecond) // the timeout under test
		close(flushed)
	}()
	select {
	case <-flushed:
	case <-time.After(time.Minute): // a guard, so that a Flush that waits for ever fails instead of hanging
		t.Fatal("Flush still waits for a stuck output")
	}
}

// step07: the real binary, with a stdout that nobody reads (a log
// collector that stopped): it answers every request, and SIGTERM still
// ends it, with exit status 0.
func TestSIGTERMEndsAServerWhoseStdoutIsStuck(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "step08-python")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the server holds the pipe's only write end now
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	first, _ := bufio.NewReader(stdout).ReadString('\n') // the URL; from here on, nobody reads
	url, ok := strings.CutPrefix(strings.TrimSpace(first), "step08-python serving on http://")
	if !ok {
		t.Fatalf("first line %q", first)
	}
	// Access-log lines of about 6 KiB, enough of them to fill the pipe
	// (64 KiB on Linux) and the log's buffer: some are dropped.
	path := "/" + strings.Repeat("x", 6000)
	for i := range (64<<10+logBufferBytes)/len(path) + 16 {
		conn := transcript.Dial(t, strings.TrimSuffix(url, "/"))
		conn.SetDeadline(time.Now().Add(time.Minute)) // a guard, so that a stuck server fails the test instead of hanging it
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if status, _, err := readResponse(bufio.NewReader(conn), "GET"); err != nil || status != "404 Not Found" {
			t.Fatalf("request %d: %q, %v", i+1, status, err)
		}
		conn.Close()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM the server exited with %v, want exit status 0", err)
		}
	case <-time.After(time.Minute): // a guard, not a measure: the server needs its shutdown timeout and a second or two
		t.Error("the server did not exit within a minute of SIGTERM (stuck writing to its stdout?)")
	}
}
