package main

// workers.go: the pool of Python worker processes, as gunicorn's master
// keeps its pre-forked workers: N processes, each serving one request at a
// time; a request waits in a bounded queue for a free one; a worker that
// dies is replaced, after a pause that grows while they keep dying; one
// that takes too long is killed; and none outlives the server.

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "embed"
)

//go:embed worker.py
var workerSource []byte

// courseApps is the course's Python demo apps (a copy of pyapps/course_apps.py),
// so that the step serves step 07's demo with nothing but python3.
//
//go:embed course_apps.py
var courseApps []byte

// poolConfig is what the command line says about the workers.
type poolConfig struct {
	python  string        // the interpreter, such as python3 or /usr/bin/python3
	app     string        // module:callable
	dir     string        // put first on sys.path (a Django project, a Flask app's folder); "" for none
	workers int           // how many processes
	queue   int           // how many requests may wait for a free worker; more get a 503
	timeout time.Duration // how long one request may keep its worker busy
	// importTime is the least time a worker gets to import the app; 0
	// means importTimeout. No flag sets it: a test waits less.
	importTime time.Duration
}

// Pool hands requests to its workers.
type Pool struct {
	cfg     poolConfig
	scripts string       // the temporary folder holding worker.py and course_apps.py
	log     io.Writer    // where the pool says what it does with its workers
	free    chan *worker // the workers waiting for a request
	waiting atomic.Int64 // requests waiting for one of them

	mu      sync.Mutex
	live    map[*worker]bool // every worker process not yet reaped, to stop them all
	stopped bool             // Stop has begun: no more restarts
	done    chan struct{}    // closed when Stop begins: the requests in the queue give up
}

// worker is one Python process and its two pipes.
type worker struct {
	pid        int
	cmd        *exec.Cmd
	toWorker   *os.File // its stdin
	in         *bufio.Writer
	fromWorker *os.File // its stdout
	out        *bufio.Reader
	environ    []byte        // the last request's environ frame: the next one is built in its place
	exited     chan struct{} // closed once the process is gone and reaped
	failures   int           // deaths in a row of the workers in this slot: the next restart's pause
	ready      bool          // it has imported the app (guarded by the pool's mu)
}

// startPool writes the Python files where python3 can run them, starts
// cfg.workers workers and waits until each has imported the app. An app
// that cannot be imported stops the server at once, with Python's reason.
func startPool(cfg poolConfig, log io.Writer) (*Pool, error) {
	dir, err := os.MkdirTemp("", "step08-python-")
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg, scripts: dir, log: log, free: make(chan *worker, cfg.workers),
		live: map[*worker]bool{}, done: make(chan struct{})}
	for name, source := range map[string][]byte{"worker.py": workerSource, "course_apps.py": courseApps} {
		if err := os.WriteFile(filepath.Join(dir, name), source, 0o644); err != nil {
			p.Stop(0)
			return nil, err
		}
	}
	started := make(chan error, cfg.workers)
	for range cfg.workers {
		go func() {
			w, err := p.start(0)
			if err == nil {
				p.free <- w
			}
			started <- err
		}()
	}
	for range cfg.workers {
		if e := <-started; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		p.Stop(0)
		return nil, err
	}
	return p, nil
}

// start runs one worker and waits for it to say it is ready.
func (p *Pool) start(failures int) (*worker, error) {
	// The child's ends of the two pipes; ours are toWorker and fromWorker.
	stdin, toWorker, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	fromWorker, stdout, err := os.Pipe()
	if err != nil {
		stdin.Close()
		toWorker.Close()
		return nil, err
	}
	args := []string{filepath.Join(p.scripts, "worker.py"), strconv.Itoa(os.Getpid()), p.cfg.app}
	if p.cfg.dir != "" {
		dir, _ := filepath.Abs(p.cfg.dir)
		args = append(args, dir)
	}
	cmd := exec.Command(p.cfg.python, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, os.Stderr // tracebacks the worker prints go to our stderr
	// Its own process group: a timeout kills the worker and anything its
	// app started, and a Ctrl-C in the terminal reaches only the server,
	// which then stops its workers in its own time.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	stdin.Close() // the child has its copies now
	stdout.Close()
	if err != nil {
		toWorker.Close()
		fromWorker.Close()
		return nil, fmt.Errorf("-python %s: %w", p.cfg.python, err)
	}
	w := &worker{pid: cmd.Process.Pid, cmd: cmd, toWorker: toWorker, in: bufio.NewWriter(toWorker),
		fromWorker: fromWorker, out: bufio.NewReaderSize(fromWorker, 64<<10), exited: make(chan struct{}), failures: failures}
	p.mu.Lock()
	stopped := p.stopped
	p.live[w] = true
	p.mu.Unlock()
	// The pipes stay open after the process has gone: whoever holds the
	// worker may still be reading what it sent last, and closes them
	// (discard) when it is done with it.
	go func() {
		cmd.Wait()
		p.mu.Lock()
		delete(p.live, w)
		p.mu.Unlock()
		close(w.exited)
	}()
	if stopped {
		w.discard()
		return nil, errStopping
	}
	// Importing a big app (Django) takes a while; one that hangs at import
	// is killed after a minute, or the request timeout if that is longer.
	// (A short -worker-timeout is for requests: a busy machine may need
	// more than that to start Python.)
	limit := max(p.cfg.timeout, cmp.Or(p.cfg.importTime, importTimeout))
	var hung atomic.Bool
	timer := time.AfterFunc(limit, func() {
		hung.Store(true)
		w.kill()
	})
	defer timer.Stop()
	f, err := readFrame(w.out)
	switch {
	case err == nil && f.kind == kindReady:
		p.mu.Lock()
		w.ready = true
		p.mu.Unlock()
		return w, nil
	case err == nil && f.kind == kindFailed:
		err = fmt.Errorf("-app %s: %s", p.cfg.app, lastLine(f.payload))
	case err == nil:
		err = fmt.Errorf("the worker sent a %q frame before it was ready", f.kind)
	case hung.Load():
		err = fmt.Errorf("-app %s: not imported after %v, so its worker was killed (an import gets a minute, or -worker-timeout if longer)", p.cfg.app, limit)
	default:
		err = fmt.Errorf("the worker (%s %s) exited before it was ready: %v", p.cfg.python, p.cfg.app, err)
	}
	w.discard()
	return nil, err
}

// shareCPUs gives Go half the CPUs (at least one) unless $GOMAXPROCS says
// otherwise. The Python workers need the other half: with the default
// -workers (one per CPU) they spend more CPU per request than the Go side
// even on a hello-world app. And a Go scheduler with a P per CPU keeps
// waking idle threads to look for work that is rarely there, since every
// request spends most of its time parked on a worker's pipe. On the
// course's 2-core machine GOMAXPROCS=1 cut the Go side's CPU per request
// from about 105 µs to 80 µs (README, "Measurements").
func shareCPUs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)/2))
	}
}

// importTimeout is the least time a worker gets to import the app.
const importTimeout = time.Minute

// lastLine is a traceback's last line: "ModuleNotFoundError: No module named 'x'".
func lastLine(traceback []byte) string {
	text := strings.TrimSpace(string(traceback))
	if text == "" {
		return "the app failed to import"
	}
	return text[strings.LastIndexByte(text, '\n')+1:]
}

// kill ends the worker's whole process group at once.
func (w *worker) kill() {
	syscall.Kill(-w.pid, syscall.SIGKILL)
}

// discard kills the worker and closes our ends of its pipes: it will not
// be used again. (A worker that dies at every start would otherwise leak
// two file descriptors each time.)
func (w *worker) discard() {
	w.kill()
	w.toWorker.Close()
	w.fromWorker.Close()
}

// errQueueFull is what acquire says when the queue is at its bound.
var errQueueFull = errors.New("every worker is busy and the queue is full")

// errNoWorker is what acquire says when no worker came free in time.
var errNoWorker = errors.New("no worker came free within -worker-timeout")

// errStopping is what acquire says once Stop has begun.
var errStopping = errors.New("the server is stopping")

// acquire takes a free worker, waiting in the queue for one if need be.
// A worker that died while it waited for a request (the app's own thread
// crashed it, or someone killed it) is replaced, and the next one taken:
// the request never saw it, so nothing is lost by moving on.
func (p *Pool) acquire() (*worker, error) {
	for {
		w, err := p.take()
		if err != nil {
			return nil, err
		}
		select {
		case <-p.done: // Stop has begun: it is ending this worker too
			p.release(w, false)
			return nil, errStopping
		case <-w.exited:
			p.release(w, false)
		default:
			return w, nil
		}
	}
}

// take is the queue: a free worker at once, else a place in line, if the
// line is not full, for at most the worker timeout (the workers may all be
// dead and failing to restart).
func (p *Pool) take() (*worker, error) {
	select {
	case w := <-p.free:
		return w, nil
	default:
	}
	if p.waiting.Add(1) > int64(p.cfg.queue) {
		p.waiting.Add(-1)
		return nil, errQueueFull
	}
	defer p.waiting.Add(-1)
	timer := time.NewTimer(p.cfg.timeout)
	defer timer.Stop()
	select {
	case w := <-p.free:
		return w, nil
	case <-timer.C:
		return nil, errNoWorker
	case <-p.done: // no worker will come free again
		return nil, errStopping
	}
}

// release gives a worker back after a request. A worker that is dead, or
// that can no longer be trusted, is killed and replaced in the background,
// after a pause that grows while the workers keep dying (restartPause).
// Once Stop has begun, no worker goes back: Stop is waiting for them all.
func (p *Pool) release(w *worker, healthy bool) {
	switch {
	case p.isStopped():
		w.discard()
	case healthy:
		w.failures = 0
		p.free <- w // never blocks: free has room for every worker there is
	default:
		w.discard()
		go p.replace(w.failures + 1)
	}
}

// replace starts a worker in place of one that died. failures counts the
// deaths in a row in this place: workers that died before they finished a
// request, or failed to start at all.
func (p *Pool) replace(failures int) {
	for {
		time.Sleep(restartPause(failures))
		if p.isStopped() {
			return
		}
		w, err := p.start(failures)
		if err == nil {
			p.free <- w
			return
		}
		if p.isStopped() {
			return
		}
		fmt.Fprintf(p.log, "* a new worker failed to start (%v); trying again in %v\n", err, restartPause(failures+1))
		failures++
	}
}

// restartPause is how long to wait before starting a worker after
// failures deaths in a row: 100 ms, doubled for each further death, up to
// 10 s. An app that crashes at once then costs a Python start-up every
// 10 s instead of a whole CPU, and a worker that died once is back at once.
func restartPause(failures int) time.Duration {
	return min(100*time.Millisecond<<min(max(failures, 1)-1, 7), 10*time.Second)
}

func (p *Pool) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Ready is how many workers are up (imported the app, not yet exited):
// /healthz answers 503 when there is none.
func (p *Pool) Ready() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for w := range p.live {
		if w.ready {
			n++
		}
	}
	return n
}

// Stop ends every worker: it closes their stdin, which a waiting worker
// reads as "stop", gives them grace to exit, then kills what is left.
// It runs after the server has drained its requests (shutdown.go).
func (p *Pool) Stop(grace time.Duration) {
	p.mu.Lock()
	if !p.stopped {
		close(p.done)
	}
	p.stopped = true
	var all []*worker
	for w := range p.live {
		all = append(all, w)
	}
	p.mu.Unlock()
	for _, w := range all {
		w.toWorker.Close()
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	late := false
	for _, w := range all {
		if !late {
			select {
			case <-w.exited:
				continue
			case <-deadline.C:
				late = true
			}
		}
		w.kill()
		<-w.exited
	}
	// The idle ones are done with; a busy one is closed by its release.
	for drained := false; !drained; {
		select {
		case w := <-p.free:
			w.discard()
		default:
			drained = true
		}
	}
	os.RemoveAll(p.scripts)
}
