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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// transcript.StartStep runs the step but keeps its process to itself; the
// checks that send the step a signal, or read what it prints, run it with
// these.

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
// on stderr. A step that is still running after a minute is killed,
// and fails the check.
func Exit(t *testing.T, dir string, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, build(t, dir), args...)
	cmd.Stderr = &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the step was still running a minute after it was started with %q; it should have refused to start", args)
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
	printed *lockedBuffer // everything it has printed, stdout and stderr
}

// Printed is everything the step has printed so far, on stdout and stderr.
func (p *Process) Printed() string { return p.printed.String() }

// Start runs the step in dir with args (which should hold "-addr
// 127.0.0.1:0") and returns it once it has printed the address it serves
// on. It is killed when the check ends, if it has not exited by then; if
// the check failed, what it printed is shown.
func Start(t *testing.T, dir string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(build(t, dir), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	printed := &lockedBuffer{}
	cmd.Stderr = printed
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		printed.Write([]byte(line))
		lines <- line
		io.Copy(printed, br) // the log, which must not block the step
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("the step printed:\n%s", printed.String())
		}
	})
	select {
	case line := <-lines:
		m := servingOn.FindStringSubmatch(line)
		if m == nil && line == "" { // it closed its stdout: it has stopped, or is stopping
			<-exited
			t.Fatalf("the step printed no address; it said:\n%s", printed.String())
		}
		if m == nil {
			t.Fatalf("the step's first line is %q, not \"… serving on http://host:port/\"", line)
		}
		return &Process{m[1], cmd.Process, printed}
	case <-time.After(time.Minute):
		t.Fatal("the step printed nothing within a minute")
		return nil
	}
}

// lockedBuffer is a bytes.Buffer that the step's output and the check may
// use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Gone reports that no process has the id pid any more: it has exited
// and its parent has reaped it (a zombie nobody waited for still has its
// id). It holds only where the check and the server share a machine, so
// a check asks it only of a server it started itself.
func Gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// Ours reports whether the check started the server itself, rather than
// checking one already running at COURSE_SERVER.
func Ours() bool { return strings.TrimSpace(os.Getenv("COURSE_SERVER")) == "" }
