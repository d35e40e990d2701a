package check

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// transcript.StartStep runs the step but keeps its process to itself; the
// checks that send the step a signal, or watch it exit, run it with these.

// build builds the step in dir (as it is now) and returns the binary.
func build(t *testing.T, dir string) string {
	t.Helper()
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), filepath.Base(dir))
	cmd := exec.Command("go", "build", "-o", exe, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
	return exe
}

// Exit runs the step in dir with args, expecting it to stop by itself
// (a setting it refuses), and returns its exit code and what it printed
// on stderr. A step that is still running after ten seconds is killed,
// and fails the check.
func Exit(t *testing.T, dir string, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, build(t, dir), args...)
	cmd.Stderr = &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the step was still running 10 s after it was started with %q; it should have refused to start", args)
	case errors.As(err, &exit):
		return exit.ExitCode(), errOut.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, errOut.String()
}

var servingOn = regexp.MustCompile(`serving on http://([^/ ]+)/`)

// Process is the step running as a process of the check's own.
type Process struct {
	Addr string // host:port, from the step's first line
	*os.Process
}

// Start runs the step in dir with args (which should hold "-addr
// 127.0.0.1:0") and returns it once it has printed the address it serves
// on. It is killed when the check ends, if it has not exited by then.
func Start(t *testing.T, dir string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(build(t, dir), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		br.WriteTo(io.Discard) // the access log, which must not block the step
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	select {
	case line := <-lines:
		m := servingOn.FindStringSubmatch(line)
		if m == nil && line == "" { // it closed its stdout: it has stopped, or is stopping
			<-exited
			t.Fatalf("the step printed no address; it said:\n%s", errOut.String())
		}
		if m == nil {
			t.Fatalf("the step's first line is %q, not \"… serving on http://host:port/\"", line)
		}
		return &Process{m[1], cmd.Process}
	case <-time.After(time.Minute):
		t.Fatal("the step printed nothing within a minute")
		return nil
	}
}
