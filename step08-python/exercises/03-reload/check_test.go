//go:build exercise

package exercise

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/wsgicourse/step08-python/exercises/internal/check"
)

// answer is what testdata/reloadable.py says: which version of its code
// served the request, and which worker process.
type answer struct {
	Status  int
	Version string
	Pid     int
}

func parse(status int, line string) answer {
	a := answer{Status: status}
	fmt.Sscanf(line, "%s %d", &a.Version, &a.Pid)
	return a
}

func read(r *check.Response) answer {
	first, _, _ := strings.Cut(string(r.Body), "\n")
	return parse(r.Status, first)
}

// edit rewrites the app's VERSION on disk (a longer value, so no Python
// could take the old file's cache for the new one).
func edit(t *testing.T, app, version string) {
	t.Helper()
	source, err := os.ReadFile("testdata/reloadable.py")
	if err != nil {
		t.Fatal(err)
	}
	source = []byte(strings.Replace(string(source), `VERSION = "one"`, version, 1))
	if err := os.WriteFile(app, source, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReload(t *testing.T) {
	check.NeedPython(t)
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1") // a new worker reads the new source, never a cache of the old
	dir := t.TempDir()
	app := filepath.Join(dir, "reloadable.py")
	edit(t, app, `VERSION = "one"`)
	// The workers and the bodies get an hour: the check holds a request
	// across the reload for as long as it needs, and never waits for
	// either.
	step := check.Start(t, "../..", "-addr", "127.0.0.1:0", "-app", "reloadable:app", "-dir", dir,
		"-workers", "2", "-worker-timeout", "1h", "-body-timeout", "1h")

	// A request in flight across the reload, and the old workers' pids.
	held := check.Dial(t, step.Addr).Hold("/hold")
	inFlight := parse(held.Status(), held.First)
	if inFlight.Version != "one" {
		t.Fatalf("POST /hold before any reload: the app said %q, want \"one <pid>\"", held.First)
	}
	old := map[int]bool{inFlight.Pid: true}
	r := check.Dial(t, step.Addr).Get("/")
	if a := read(r); r.Expect(t, "GET / before any reload", "one", a.Version) {
		old[a.Pid] = true
	}

	// New code on disk, and SIGHUP. The signal is handled soon, not at
	// once, and new workers take a while to import the app: ask again,
	// each time on a new connection, until the new code answers. Until
	// then every answer must come from the old code: none refused, none
	// lost, none a 502 or a 503.
	edit(t, app, `VERSION = "version-two"`)
	if err := step.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		r, err := check.TryGet(t, step.Addr, "/")
		if err != nil {
			t.Fatalf("GET / on a new connection after SIGHUP: %v; the server must go on serving through a reload "+
				"(did it exit? that is what a Go program does on a signal it does not handle)", err)
		}
		a := read(r)
		if a.Status == 200 && a.Version == "version-two" {
			break
		}
		if a.Status != 200 || a.Version != "one" {
			r.Expect(t, "GET / after SIGHUP: every answer comes from the old code or the new one",
				"200 one <pid>, or 200 version-two <pid>", fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(string(r.Body))))
			t.FailNow()
		}
		if time.Now().After(deadline) {
			t.Fatal("GET / after SIGHUP: the new code still did not answer a minute later")
		}
	}

	// The request in flight is finished by the old worker, in the old code.
	r = held.Release()
	r.Expect(t, "POST /hold, held across the reload, then released", answer{200, "one", inFlight.Pid}, read(r))
	r.Expect(t, "POST /hold, held across the reload: its whole body", fmt.Sprintf("one %d\nreleased\n", inFlight.Pid), string(r.Body))

	// The old workers retire: they exit, and the new code answers from
	// here on.
	for pid := range old {
		check.Eventually(t, fmt.Sprintf("worker %d of the old code has not exited since the reload (or nobody reaped it)", pid),
			func() bool { return check.Gone(pid) })
	}
	conn := check.Dial(t, step.Addr)
	current := map[int]bool{}
	for i := range 10 {
		r := conn.Get("/")
		a := read(r)
		current[a.Pid] = true
		r.Expect(t, fmt.Sprintf("GET / %d of 10, once the old workers have exited", i+1), answer{200, "version-two", a.Pid}, a)
	}

	// A typo that stops the code from importing: the reload fails, the
	// server says why, and the workers it has go on serving.
	edit(t, app, `VERSION = "three`)
	if err := step.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	check.Eventually(t, "after SIGHUP with code that does not import, the server's output names the error (SyntaxError)",
		func() bool { return strings.Contains(step.Printed(), "SyntaxError") })
	for i := range 10 {
		r, err := check.TryGet(t, step.Addr, "/")
		if err != nil {
			t.Fatalf("GET / %d of 10, after a reload that failed: %v: the server must go on serving with the workers it has", i+1, err)
		}
		a := read(r)
		r.Expect(t, fmt.Sprintf("GET / %d of 10, after a reload that failed: the workers it had go on serving", i+1), answer{200, "version-two", a.Pid}, a)
	}
	for pid := range current {
		if check.Gone(pid) {
			t.Errorf("worker %d, which served the working code, has exited after a reload that failed", pid)
		}
	}
}
