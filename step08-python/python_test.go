package main

import (
	"context"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests' Python workers. Starting a pool costs a Python start-up per
// worker (Django's far more), so the tests share one pool per app, started
// when a test first asks for it and stopped by TestMain.
var (
	poolsMu sync.Mutex
	pools   = map[poolConfig]*Pool{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	poolsMu.Lock()
	for _, p := range pools {
		p.Stop(10 * time.Second)
	}
	poolsMu.Unlock()
	os.Exit(code)
}

// needPeer skips a test that needs something this machine lacks, with a
// one-line reason; where COURSE_REQUIRE_PEERS is set (CI) it fails instead,
// so CI never passes by skipping.
func needPeer(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("COURSE_REQUIRE_PEERS") != "" {
		t.Fatalf("%s (COURSE_REQUIRE_PEERS is set: this test must run)", reason)
	}
	t.Skip(reason)
}

// python3 is the interpreter the course's own apps need: any python3,
// standard library only.
func python3(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("python3")
	if err != nil {
		needPeer(t, "python3 is not installed; step 08 runs its apps in Python")
	}
	return path
}

// sharedPool is a pool running cfg's app, shared by every test that asks
// for the same one. The request timeout is an hour: no test may race it,
// except the ones about it, which make pools of their own.
func sharedPool(t testing.TB, cfg poolConfig) *Pool {
	t.Helper()
	if cfg.workers == 0 {
		cfg.workers = 2
	}
	if cfg.queue == 0 {
		cfg.queue = 64
	}
	if cfg.timeout == 0 {
		cfg.timeout = time.Hour
	}
	poolsMu.Lock()
	defer poolsMu.Unlock()
	if p := pools[cfg]; p != nil {
		return p
	}
	p, err := startPool(cfg, io.Discard)
	if err != nil {
		t.Fatalf("starting %d workers of %s %s: %v", cfg.workers, cfg.python, cfg.app, err)
	}
	pools[cfg] = p
	return p
}

// ownPool is a pool for one test alone, stopped when it ends: for tests
// that kill workers or time them out. Its log goes to the test's log.
func ownPool(t *testing.T, cfg poolConfig) *Pool {
	t.Helper()
	return ownPoolLogging(t, cfg, testLog{t})
}

// ownPoolLogging is ownPool with the pool's lines going to log.
func ownPoolLogging(t *testing.T, cfg poolConfig, log io.Writer) *Pool {
	t.Helper()
	cfg.python = python3(t)
	if cfg.app == "" {
		cfg.app = "course_apps:step07"
	}
	p, err := startPool(cfg, log)
	if err != nil {
		t.Fatalf("starting the workers: %v", err)
	}
	t.Cleanup(func() { p.Stop(10 * time.Second) })
	return p
}

// testLog writes the pool's lines into the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p))
	return len(p), nil
}

// pythonDemo is what main serves by default, as the tests serve it: the
// course's step 07 demo app in Python workers, behind the same middleware
// and /healthz as main's, with the fixed request id and SERVER_PORT 8082
// (the tests listen on random ports, and the transcripts must not).
func pythonDemo(t testing.TB, srv *Server) App {
	pool := sharedPool(t, poolConfig{python: python3(t), app: "course_apps:step07"})
	app := withMiddleware(withHealthz(pool.App, srv.ShuttingDown, pool.Ready), nil, false, fixedID)
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		environ["SERVER_PORT"] = "8082"
		return app(environ, startResponse)
	}
}

// pythonServer is a Server for the tests, running pythonDemo; errors
// (the app's wsgi.errors lines, tracebacks) go to the test's log.
func pythonServer(t *testing.T) *Server {
	srv := &Server{Errors: testLog{t}, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
	srv.App = pythonDemo(t, srv)
	return srv
}

// TestREADMEShowsTheImportError runs the README's bad-app command through
// run, as main does, and compares main's one line with the README's: an
// app that cannot be imported stops the server before it serves, with
// Python's own last line and no Go stack.
func TestREADMEShowsTheImportError(t *testing.T) {
	python3(t)
	command, output := outputOf(t, readmeBlock(t, "bad-app"), "go run ./step08-python ")
	args := strings.Fields(strings.TrimPrefix(command, "go run ./step08-python "))
	err := run(context.Background(), append(args, "-addr", "127.0.0.1:0"), io.Discard)
	if err == nil {
		t.Fatalf("run %q served; want it to stop with the import error", args)
	}
	if got := []string{"step08-python: " + err.Error()}; !slices.Equal(got, output) {
		t.Errorf("main would print %q; README.md's bad-app block shows %q", got, output)
	}
}

// TestREADMEShowsTheBenchmarkResults: the tables under "Measurements" are
// the ones the load test last wrote to loadtest/results.md, not typed.
func TestREADMEShowsTheBenchmarkResults(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	results, err := os.ReadFile(filepath.Join("loadtest", "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	var table strings.Builder
	for _, line := range strings.SplitAfter(string(results), "\n") {
		if strings.HasPrefix(line, "|") {
			table.WriteString(line)
		} else if table.Len() > 0 {
			tables = append(tables, table.String())
			table.Reset()
		}
	}
	if len(tables) != 2 {
		t.Fatalf("loadtest/results.md has %d tables, want 2 (speed, slow clients)", len(tables))
	}
	for _, table := range tables {
		if !strings.Contains(string(readme), "\n\n"+table+"\n") {
			t.Errorf("README.md's Measurements do not show this table of loadtest/results.md:\n%s", table)
		}
	}
}
