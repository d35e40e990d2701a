package main

// The worker lifecycle (issue 17): workers die, hang and restart under
// test, and no request goes unanswered. Every test runs the apps of
// testdata/misbehave in a pool of its own, behind a Server on a real TCP
// connection, in a fresh copy of that folder (the apps' files go there).
// No timing is asserted: a timeout is only ever the thing under test,
// everything else gets an hour or polls with a generous bound.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// patience bounds every wait that is not the thing under test: long
// enough for a loaded machine, short enough to fail rather than hang.
const patience = time.Minute

// misbehaving is a pool running an app of testdata/misbehave, and a
// Server in front of it with main's middleware and /healthz.
type misbehaving struct {
	pool *Pool
	dir  string        // the app's folder: the files it writes and waits for
	addr string        // the server's address
	errs *lockedBuffer // the server's error log (wsgi.errors)
	log  *lockedBuffer // the pool's own lines
}

// startMisbehaving starts cfg's app (misbehave:app unless cfg.app says
// otherwise) with cfg.dir a fresh copy of testdata/misbehave; 1 worker,
// a queue of 64 and a timeout of an hour unless cfg says otherwise.
func startMisbehaving(t *testing.T, cfg poolConfig) *misbehaving {
	t.Helper()
	m := &misbehaving{dir: copyMisbehave(t), errs: &lockedBuffer{}, log: &lockedBuffer{}}
	cfg.dir = m.dir
	if cfg.app == "" {
		cfg.app = "misbehave:app"
	}
	if cfg.workers == 0 {
		cfg.workers = 1
	}
	if cfg.queue == 0 {
		cfg.queue = 64
	}
	if cfg.timeout == 0 {
		cfg.timeout = time.Hour
	}
	p := ownPoolLogging(t, cfg, io.MultiWriter(m.log, testLog{t}))
	m.pool = p
	srv := &Server{Errors: io.MultiWriter(m.errs, testLog{t}),
		HeaderTimeout: time.Hour, BodyTimeout: time.Hour, IdleTimeout: time.Hour, WriteTimeout: time.Hour}
	srv.App = withMiddleware(withHealthz(p.App, srv.ShuttingDown, p.Ready), nil, false, fixedID)
	m.addr = transcript.Start(t, srv.Serve)
	return m
}

// copyMisbehave copies testdata/misbehave into a new temporary folder.
func copyMisbehave(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"misbehave.py", "crashloop.py", "hangs.py"} {
		source, err := os.ReadFile(filepath.Join("testdata", "misbehave", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), source, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// answer is one response as the client got it.
type answer struct {
	status string
	header http.Header
	body   string
	err    error // reading the body failed: the connection was cut
}

// send sends method path on a new connection and reads the response.
func (m *misbehaving) send(t *testing.T, method, path string) answer {
	t.Helper()
	conn := m.dial(t)
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, path)
	return readAnswer(t, bufio.NewReader(conn), method)
}

// dial connects to the server; the deadline is a guard, so that a lost
// request fails the test instead of hanging it.
func (m *misbehaving) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", m.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(patience))
	return conn
}

// readAnswer reads a response; with none, the answer's status says so
// (it runs on goroutines too, where a test must not stop).
func readAnswer(t *testing.T, br *bufio.Reader, method string) answer {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return answer{status: "no response", err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{resp.Status, resp.Header, string(body), err}
}

// mustGet is GET path, which must answer 200 with a whole body.
func (m *misbehaving) mustGet(t *testing.T, path string) string {
	t.Helper()
	a := m.send(t, "GET", path)
	if a.status != "200 OK" || a.err != nil {
		t.Fatalf("GET %s: %s %q, %v; want 200 OK and a whole body", path, a.status, a.body, a.err)
	}
	return a.body
}

// pid is the pid of the worker that answers GET /pid.
func (m *misbehaving) pid(t *testing.T) int {
	t.Helper()
	pid, err := strconv.Atoi(m.mustGet(t, "/pid"))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// eventually polls cond until it holds, and fails the test if it still
// does not after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(patience); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after %v: %s", patience, what)
		}
	}
}

// allReady waits until every worker of the pool is up again.
func (m *misbehaving) allReady(t *testing.T) {
	t.Helper()
	eventually(t, fmt.Sprintf("Ready() == %d", m.pool.cfg.workers), func() bool { return m.pool.Ready() == m.pool.cfg.workers })
}

// file is the content of a file the app wrote in its folder, once it is there.
func (m *misbehaving) file(t *testing.T, name string) string {
	t.Helper()
	var content []byte
	eventually(t, "the app wrote "+name, func() bool {
		var err error
		content, err = os.ReadFile(filepath.Join(m.dir, name))
		return err == nil
	})
	return string(content)
}

// touch creates a file in the app's folder (a release the app waits for).
func (m *misbehaving) touch(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(m.dir, name), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// alive reports whether a process exists and is not a zombie (one that
// exited and waits for its parent to reap it is gone for our purposes).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// workersIn lists the live worker processes whose command line names
// dir: the workers of a pool whose -dir is dir (the server's own command
// line names it too, but not worker.py).
func workersIn(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		needPeer(t, fmt.Sprintf("no /proc to look for processes in: %v", err))
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) && bytes.Contains(cmdline, []byte("worker.py")) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// A worker that dies before the headers: the client gets a 502, the pool
// starts another, and the next requests are served.
func TestWorkerDyingBeforeTheHeadersIs502(t *testing.T) {
	m := startMisbehaving(t, poolConfig{workers: 2})
	for _, path := range []string{"/exit-before-headers", "/kill-before-headers"} {
		t.Run(path, func(t *testing.T) {
			a := m.send(t, "GET", path)
			if a.status != "502 Bad Gateway" || !strings.Contains(a.body, "worker process died") || a.err != nil {
				t.Errorf("GET %s: %s %q, %v; want 502 Bad Gateway saying the worker died", path, a.status, a.body, a.err)
			}
			m.allReady(t)
			m.pid(t)
			m.pid(t)
		})
	}
	if log := m.errs.String(); !strings.Contains(log, "[fixed-id-for-tests] worker ") {
		t.Errorf("the error log does not say which worker died:\n%s", log)
	}
}

// A worker that dies after the headers and a chunk went out: a 502 can no
// longer be said, so the connection is cut, and the client sees a chunked
// body without its last chunk. Then the pool is whole again.
func TestWorkerDyingAfterTheHeadersCutsTheConnection(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	a := m.send(t, "GET", "/die-after-headers")
	if a.status != "200 OK" || a.body != "first\nsecond\n" || a.err != io.ErrUnexpectedEOF {
		t.Errorf("GET /die-after-headers: %s %q, %v; want 200 OK, the two chunks, then io.ErrUnexpectedEOF (no last chunk)", a.status, a.body, a.err)
	}
	m.allReady(t)
	m.pid(t)
}

// Many requests in a row, each killing its worker, at once: every one is
// answered (502), none is lost and none hangs, though each waits for a
// worker to be restarted; then the pool serves again.
func TestEveryRequestThatKillsItsWorkerIsAnswered(t *testing.T) {
	m := startMisbehaving(t, poolConfig{workers: 2})
	const n = 8
	answers := make(chan answer, n)
	for range n {
		go func() { answers <- m.send(t, "GET", "/exit-before-headers") }()
	}
	for i := range n {
		a := <-answers // each send has its own deadline
		if a.status != "502 Bad Gateway" {
			t.Errorf("request %d of %d: %s %q, %v; want 502 Bad Gateway", i+1, n, a.status, a.body, a.err)
		}
	}
	m.allReady(t)
	m.pid(t)
}

// A worker killed while it waits for a request: the next request is
// answered by another one, not with a 502.
func TestWorkerKilledWhileIdleIsSkipped(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	before := m.pid(t)
	if err := syscall.Kill(before, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Gone from /proc: reaped by the pool, so every thread of it has
	// exited and closed the pipes. (A zombie leader is not enough: the
	// worker's watcher thread may still be exiting, holding the pipes.)
	eventually(t, "the killed worker is reaped", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", before))
		return os.IsNotExist(err)
	})
	if after := m.pid(t); after == before {
		t.Errorf("GET /pid was answered by pid %d, the worker that was killed", after)
	}
}

// The same, in the moment before the pool has noticed the death (its
// reaper has not closed exited yet): writing the request fails with EPIPE,
// as nobody reads the pipe, and the request goes to the next worker.
func TestWorkerDeadBeforeThePoolNoticedIsSkipped(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	w := <-m.pool.free
	w.kill()
	<-w.exited
	// The same process and pipes, but an exited that says "alive".
	unnoticed := &worker{pid: w.pid, cmd: w.cmd, toWorker: w.toWorker, in: w.in, out: w.out, exited: make(chan struct{})}
	m.pool.free <- unnoticed
	if pid := m.pid(t); pid == w.pid {
		t.Errorf("GET /pid was answered by pid %d, the worker that was killed", pid)
	}
}

// An app that runs past -worker-timeout: 504, its whole process group is
// killed (the worker and the process its app started), and a new worker
// takes its place. Only the timeout is short here: it is what is tested.
func TestTimeoutKillsTheWorkerAndItsChildren(t *testing.T) {
	m := startMisbehaving(t, poolConfig{timeout: 300 * time.Millisecond})
	a := m.send(t, "GET", "/sleep")
	if a.status != "504 Gateway Timeout" || !strings.Contains(a.body, "longer than 300ms") {
		t.Errorf("GET /sleep: %s %q, %v; want 504 Gateway Timeout", a.status, a.body, a.err)
	}
	var worker, child int
	if _, err := fmt.Sscan(m.file(t, "sleep.pid"), &worker, &child); err != nil {
		t.Fatal(err)
	}
	// The pool waits for the worker to be reaped before it answers.
	if alive(worker) {
		t.Errorf("the timed-out worker, pid %d, is still alive after the 504", worker)
	}
	eventually(t, fmt.Sprintf("the app's child, pid %d, is killed with its worker", child), func() bool { return !alive(child) })
	m.allReady(t)
	m.pool.mu.Lock()
	for w := range m.pool.live {
		if w.pid == worker {
			t.Errorf("pid %d, killed, is still among the pool's workers", worker)
		}
	}
	m.pool.mu.Unlock()
	if log := m.errs.String(); !strings.Contains(log, fmt.Sprintf("worker %d killed: the request took longer than -worker-timeout 300ms", worker)) {
		t.Errorf("the error log does not say the worker was killed:\n%s", log)
	}
}

// -workers 1 -queue 1: one request holds the worker, one waits for it, a
// third gets 503 with Retry-After at once; when the first is done, the
// one that waited is served.
func TestTheQueueIsBounded(t *testing.T) {
	m := startMisbehaving(t, poolConfig{workers: 1, queue: 1})
	held := make(chan answer, 1)
	go func() { held <- m.send(t, "GET", "/hold?queue") }()
	m.file(t, "queue.started")
	waited := make(chan answer, 1)
	go func() { waited <- m.send(t, "GET", "/pid") }()
	eventually(t, "one request waits in the queue", func() bool { return m.pool.waiting.Load() == 1 })

	a := m.send(t, "GET", "/pid")
	if a.status != "503 Service Unavailable" || a.header.Get("Retry-After") != "1" || !strings.Contains(a.body, "queue is full") {
		t.Errorf("the third request: %s, Retry-After %q, %q; want 503 Service Unavailable, Retry-After 1, the queue is full",
			a.status, a.header.Get("Retry-After"), a.body)
	}
	m.touch(t, "queue.release")
	if a := <-held; a.status != "200 OK" || !strings.HasPrefix(a.body, "released") {
		t.Errorf("the held request: %s %q, %v; want 200 OK released", a.status, a.body, a.err)
	}
	if a := <-waited; a.status != "200 OK" {
		t.Errorf("the waiting request: %s %q, %v; want 200 OK", a.status, a.body, a.err)
	}
}

// Stop while a request waits in the queue: it gets 503 at once instead of
// waiting out -worker-timeout (an hour here) for a worker that will never
// come free; the pool's temporary folder is removed.
func TestStopAnswersTheRequestsInTheQueue(t *testing.T) {
	m := startMisbehaving(t, poolConfig{workers: 1, queue: 4})
	held := make(chan answer, 1)
	go func() { held <- m.send(t, "GET", "/hold?stop") }()
	m.file(t, "stop.started")
	waited := make(chan answer, 1)
	go func() { waited <- m.send(t, "GET", "/pid") }()
	eventually(t, "one request waits in the queue", func() bool { return m.pool.waiting.Load() == 1 })

	m.pool.Stop(0) // no grace: the held worker is killed too
	if a := <-waited; a.status != "503 Service Unavailable" || !strings.Contains(a.body, "stopping") {
		t.Errorf("the waiting request: %s %q, %v; want 503 Service Unavailable, the server is stopping", a.status, a.body, a.err)
	}
	if a := <-held; a.status != "502 Bad Gateway" {
		t.Errorf("the held request, its worker killed by Stop: %s %q, %v; want 502 Bad Gateway", a.status, a.body, a.err)
	}
	if a := m.send(t, "GET", "/pid"); a.status != "503 Service Unavailable" {
		t.Errorf("a request after Stop: %s %q, %v; want 503 Service Unavailable", a.status, a.body, a.err)
	}
	if _, err := os.Stat(m.pool.scripts); !os.IsNotExist(err) {
		t.Errorf("after Stop, the pool's folder %s: %v; want it removed", m.pool.scripts, err)
	}
	if n := m.pool.Ready(); n != 0 {
		t.Errorf("after Stop, Ready() = %d, want 0", n)
	}
}

// The pause before a restart doubles with each death in a row, from 100 ms
// to at most 10 s.
func TestRestartPauseGrows(t *testing.T) {
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond,
		10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := restartPause(i + 1); got != w {
			t.Errorf("restartPause(%d) = %v, want %v", i+1, got, w)
		}
	}
	for _, failures := range []int{0, -1} {
		if got := restartPause(failures); got != 100*time.Millisecond {
			t.Errorf("restartPause(%d) = %v, want the first pause, 100ms", failures, got)
		}
	}
	if got := restartPause(1 << 30); got != 10*time.Second {
		t.Errorf("restartPause(1<<30) = %v, want 10s (no overflow)", got)
	}
}

// An app that imports fine once, then crashes at every later start: after
// its worker dies, the restarts keep failing with a growing pause, and
// /healthz says 503 while no worker is up. Once the app can start again,
// a restart succeeds and /healthz says ok.
func TestCrashingRestartsBackOffAndHealthzSays503(t *testing.T) {
	m := startMisbehaving(t, poolConfig{app: "crashloop:app"})
	m.mustGet(t, "/")
	if a := m.send(t, "GET", "/die"); a.status != "502 Bad Gateway" {
		t.Fatalf("GET /die: %s %q, %v; want 502 Bad Gateway", a.status, a.body, a.err)
	}
	// The dead worker was reaped before the 502 went out, and no other can start.
	a := m.send(t, "GET", "/healthz")
	if a.status != "503 Service Unavailable" || a.body != "no worker is ready\n" {
		t.Errorf("GET /healthz with no worker up: %s %q; want 503 Service Unavailable, no worker is ready", a.status, a.body)
	}
	eventually(t, "two restarts failed", func() bool { return strings.Count(m.log.String(), "failed to start") >= 2 })
	log := m.log.String()
	for _, want := range []string{
		"RuntimeError: crashloop: started before, so crashing now); trying again in 200ms",
		"RuntimeError: crashloop: started before, so crashing now); trying again in 400ms",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the pool's log lacks %q:\n%s", want, log)
		}
	}
	if err := os.Remove(filepath.Join(m.dir, "crashloop.started")); err != nil {
		t.Fatal(err)
	}
	m.allReady(t) // within one pause, at most 10 s
	if a := m.send(t, "GET", "/healthz"); a.status != "200 OK" {
		t.Errorf("GET /healthz with a worker up again: %s %q; want 200 OK", a.status, a.body)
	}
	m.mustGet(t, "/")
}

// An app that cannot be imported, or a -python that does not exist: the
// pool does not start, with one line that says why, and leaves no folder.
func TestAnAppThatCannotStartIsOneLine(t *testing.T) {
	python := python3(t)
	dir := copyMisbehave(t)
	for _, tt := range []struct {
		name string
		cfg  poolConfig
		want string
	}{
		{"no such module", poolConfig{python: python, app: "nosuch:app"},
			"-app nosuch:app: ModuleNotFoundError: No module named 'nosuch'"},
		{"no such callable", poolConfig{python: python, app: "misbehave:nosuch", dir: dir},
			"-app misbehave:nosuch: AttributeError: module 'misbehave' has no attribute 'nosuch'"},
		{"not callable", poolConfig{python: python, app: "misbehave:TEXT", dir: dir},
			"-app misbehave:TEXT: TypeError: misbehave:TEXT is a tuple, not a WSGI app"},
		{"no such python", poolConfig{python: "/nonexistent", app: "misbehave:app", dir: dir},
			`-python /nonexistent: fork/exec /nonexistent: no such file or directory`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.workers, tt.cfg.queue, tt.cfg.timeout = 2, 1, time.Hour
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where startPool makes its folder
			p, err := startPool(tt.cfg, testLog{t})
			if err == nil {
				p.Stop(patience)
				t.Fatalf("startPool(%s) started", tt.cfg.app)
			}
			if err.Error() != tt.want {
				t.Errorf("startPool: %q\nwant %q", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("startPool left %s in the temporary folder", left[0].Name())
			}
		})
	}
}

// An app whose import never returns gets its worker killed once the
// import's time is up, and the server's start fails with one line that
// says so (not "exited before it was ready: EOF"). The time is the thing
// under test: shortened here from a minute to 300 ms. Whether Python had
// even reached the import by then does not change the answer.
func TestAnImportThatHangsIsKilledAndSaysSo(t *testing.T) {
	python := python3(t)
	dir := copyMisbehave(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where startPool makes its folder
	cfg := poolConfig{python: python, app: "hangs:app", dir: dir, workers: 2, queue: 1, timeout: time.Millisecond,
		importTime: 300 * time.Millisecond}
	p, err := startPool(cfg, testLog{t})
	if err == nil {
		p.Stop(patience)
		t.Fatal("startPool(hangs:app) started")
	}
	want := "-app hangs:app: not imported after 300ms, so its worker was killed (an import gets a minute, or -worker-timeout if longer)"
	if err.Error() != want {
		t.Errorf("startPool: %q\nwant %q", err, want)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("startPool left %s in the temporary folder", left[0].Name())
	}
	if left := workersIn(t, dir); len(left) > 0 {
		t.Errorf("workers still running: %v", left)
	}
}

// buildBinary builds the step's command, to run it as docker would.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "step08-python")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The real binary with an app it cannot import, or a Python that does not
// exist: exit status 1 and one line on stderr, no Go stack.
func TestTheBinaryRefusesAnAppWithOneLine(t *testing.T) {
	python3(t)
	bin := buildBinary(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-app", "nosuch:app"}, "step08-python: -app nosuch:app: ModuleNotFoundError: No module named 'nosuch'\n"},
		{[]string{"-python", "/nonexistent"}, "step08-python: -python /nonexistent: fork/exec /nonexistent: no such file or directory\n"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, tt.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if exit, ok := err.(interface{ ExitCode() int }); !ok || exit.ExitCode() != 1 {
				t.Errorf("%v: %v; want exit status 1", tt.args, err)
			}
			if stderr.String() != tt.want {
				t.Errorf("%v: stderr %q\nwant %q", tt.args, stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("%v: stdout %q; want nothing (it never served)", tt.args, stdout.String())
			}
		})
	}
}

// runningBinary is the real binary serving the misbehave apps.
type runningBinary struct {
	cmd    *os.Process
	exited chan error
	lines  chan string // its stdout, line by line
	addr   string
	dir    string // the apps' folder, in every worker's command line
}

func startBinary(t *testing.T, args ...string) *runningBinary {
	t.Helper()
	python3(t)
	b := &runningBinary{exited: make(chan error, 1), lines: make(chan string, 1000), dir: copyMisbehave(t)}
	cmd := exec.Command(buildBinary(t), append([]string{"-addr", "127.0.0.1:0", "-app", "misbehave:app", "-dir", b.dir}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.cmd = cmd.Process
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			b.lines <- scanner.Text()
		}
		close(b.lines)
		b.exited <- cmd.Wait() // after the last read, as Wait closes the pipe
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	first := b.line(t)
	url, ok := strings.CutPrefix(first, "step08-python serving on http://")
	if !ok {
		t.Fatalf("first line %q", first)
	}
	b.addr = strings.TrimSuffix(url, "/")
	return b
}

// line is the binary's next line of output.
func (b *runningBinary) line(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-b.lines:
		if !ok {
			t.Fatal("the binary's output ended")
		}
		return line
	case <-time.After(patience):
		t.Fatalf("the binary printed nothing for %v", patience)
	}
	return ""
}

// waitForLine reads the binary's output until a line that starts with prefix.
func (b *runningBinary) waitForLine(t *testing.T, prefix string) {
	t.Helper()
	for !strings.HasPrefix(b.line(t), prefix) {
	}
}

// SIGTERM with a request in flight in a Python worker: the request is
// answered in full, then the workers stop, the binary exits 0, and no
// worker outlives it.
func TestSIGTERMFinishesThePythonRequestAndLeavesNoWorker(t *testing.T) {
	b := startBinary(t, "-workers", "2", "-shutdown-timeout", "1h", "-quiet")
	workers := workersIn(t, b.dir)
	if len(workers) != 2 {
		t.Fatalf("found %d processes running in %s, want the 2 workers", len(workers), b.dir)
	}
	m := &misbehaving{addr: b.addr, dir: b.dir}
	held := make(chan answer, 1)
	go func() { held <- m.send(t, "GET", "/hold?term") }()
	m.file(t, "term.started")
	b.cmd.Signal(syscall.SIGTERM)
	b.waitForLine(t, "* shutting down")
	m.touch(t, "term.release")
	if a := <-held; a.status != "200 OK" || !strings.HasPrefix(a.body, "released") || a.err != nil {
		t.Errorf("the request in flight: %s %q, %v; want 200 OK released", a.status, a.body, a.err)
	}
	select {
	case err := <-b.exited:
		if err != nil {
			t.Errorf("after SIGTERM the binary exited with %v, want exit status 0", err)
		}
	case <-time.After(patience):
		t.Fatalf("the binary did not exit within %v of SIGTERM", patience)
	}
	// Stop reaps every worker before run returns: none may be left.
	for _, pid := range workers {
		if alive(pid) {
			t.Errorf("worker %d outlived the binary", pid)
		}
	}
	if left := workersIn(t, b.dir); len(left) != 0 {
		t.Errorf("processes %v, started in %s, outlived the binary", left, b.dir)
	}
}

// SIGKILL gives the server no chance to stop its workers: they notice on
// their own (worker.py watches its parent every 0.5 s) and exit, a busy
// one too.
func TestWorkersOfAKilledServerExitOnTheirOwn(t *testing.T) {
	b := startBinary(t, "-workers", "2", "-quiet")
	m := &misbehaving{addr: b.addr, dir: b.dir}
	io.WriteString(m.dial(t), "GET /hold?kill HTTP/1.1\r\nHost: x\r\n\r\n") // never released, never answered
	m.file(t, "kill.started")
	workers := workersIn(t, b.dir)
	if len(workers) != 2 {
		t.Fatalf("found %d processes running in %s, want the 2 workers", len(workers), b.dir)
	}
	b.cmd.Signal(syscall.SIGKILL)
	eventually(t, fmt.Sprintf("the workers %v exit after their server was killed", workers), func() bool {
		return len(workersIn(t, b.dir)) == 0
	})
}

// What the app writes to wsgi.errors is in the server's error log, a line
// at a time, each tagged with the request's id.
func TestAppLogLinesCarryTheRequestID(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	m.mustGet(t, "/log")
	want := "[fixed-id-for-tests] first line from the app\n[fixed-id-for-tests] second line from the app\n"
	if log := m.errs.String(); !strings.Contains(log, want) {
		t.Errorf("the error log:\n%s\nwant it to contain:\n%s", log, want)
	}
}

// HEAD needs no body: the server tells the worker to stop; the app's
// iterable is closed, and the same worker serves the next request, also
// after an abort that reached it once its response had ended, and after
// an app that read its input once it was told to stop.
func TestHeadStopsTheAppAndKeepsTheWorker(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	pid := m.pid(t)
	for _, path := range []string{"/stream", "/two-chunks", "/read-after-yield"} {
		t.Run(path, func(t *testing.T) {
			a := m.send(t, "HEAD", path)
			if a.status != "200 OK" || a.body != "" || a.err != nil {
				t.Errorf("HEAD %s: %s %q, %v; want 200 OK and no body", path, a.status, a.body, a.err)
			}
			if path == "/stream" {
				m.file(t, "stream.closed")
			}
			if again := m.pid(t); again != pid {
				t.Errorf("after HEAD %s, pid %d answered, not %d: the worker was replaced", path, again, pid)
			}
		})
	}
	if log := m.errs.String(); strings.Contains(log, "worker") {
		t.Errorf("the error log complains about a worker:\n%s", log)
	}
}

// A client that leaves in the middle of an endless stream: the worker is
// told, the app's iterable is closed, and the worker serves the next one.
func TestClientLeavingMidStreamClosesTheApp(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	pid := m.pid(t)
	conn := m.dial(t)
	io.WriteString(conn, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "chunk 3") {
			break
		}
	}
	conn.(*net.TCPConn).SetLinger(0) // a reset: the server's next write fails
	conn.Close()
	m.file(t, "stream.closed")
	if again := m.pid(t); again != pid {
		t.Errorf("after the client left, pid %d answered, not %d: the worker was replaced", again, pid)
	}
}

// A response of 3 MiB in one bytes object travels in three frames and
// arrives whole.
func TestAResponseLargerThanAFrameArrivesWhole(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	pattern := make([]byte, 256)
	for i := range pattern {
		pattern[i] = byte(i)
	}
	want := bytes.Repeat(pattern, 3*4096)
	if got := m.mustGet(t, "/big"); got != string(want) {
		t.Errorf("GET /big: %d bytes, want the %d the app sent", len(got), len(want))
	}
}

// start_response refuses a hop-by-hop header and a bad status, as it does
// a Go app's: the client gets a 500, and the worker, whose app did nothing
// wrong by Python's lights, serves the next request.
func TestARefusedStartResponseIs500AndKeepsTheWorker(t *testing.T) {
	m := startMisbehaving(t, poolConfig{})
	pid := m.pid(t)
	for _, tt := range []struct{ path, logged string }{
		{"/hop-by-hop", `hop-by-hop header "Connection" is not allowed`},
		{"/bad-status", `status "200" must be three digits`},
	} {
		a := m.send(t, "GET", tt.path)
		if a.status != "500 Internal Server Error" || a.err != nil {
			t.Errorf("GET %s: %s %q, %v; want 500 Internal Server Error", tt.path, a.status, a.body, a.err)
		}
		if log := m.errs.String(); !strings.Contains(log, tt.logged) {
			t.Errorf("the error log lacks %q:\n%s", tt.logged, log)
		}
		if again := m.pid(t); again != pid {
			t.Errorf("after GET %s, pid %d answered, not %d: the worker was replaced", tt.path, again, pid)
		}
	}
}

// Ready counts the workers that are up: one that dies is not counted once
// the pool has reaped it, and its replacement is counted once it has
// imported the app.
func TestReadyCountsTheWorkersUp(t *testing.T) {
	p := ownPool(t, poolConfig{workers: 2, queue: 1, timeout: time.Hour})
	if n := p.Ready(); n != 2 {
		t.Fatalf("Ready() = %d after startPool, want 2", n)
	}
	w := <-p.free
	w.kill()
	<-w.exited
	if n := p.Ready(); n != 1 {
		t.Errorf("Ready() = %d with one worker dead, want 1", n)
	}
	p.release(w, false)
	eventually(t, "Ready() == 2 once the dead worker is replaced", func() bool { return p.Ready() == 2 })
}
