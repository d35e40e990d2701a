package transcript

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// servingOn finds the address in a step's first line, such as
// "step02-socket serving on http://127.0.0.1:40123/".
var servingOn = regexp.MustCompile(`serving on http://([^/ ]+)/`)

// StartStep builds the step whose folder is dir (as it is now: a
// learner's changes included) and runs it with args, which should hold
// "-addr 127.0.0.1:0". It returns the address the step printed in its
// first line. The step is interrupted (SIGINT, as Ctrl-C does) when the
// test ends, and killed if it has not stopped 10 s later. What it prints
// after its first line is kept and shown if the test fails.
func StartStep(t testing.TB, dir string, args ...string) string {
	t.Helper()
	// The binary is named after the step's folder: resolved first, since
	// an exercise names its step "../..", whose last element is "..".
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), filepath.Base(dir))
	build := exec.Command("go", "build", "-o", exe, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
	cmd := exec.Command(exe, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var printed lockedBuffer
	cmd.Stderr = &printed
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		io.Copy(&printed, br) // keep the step's later output from blocking it
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s printed:\n%s", filepath.Base(dir), printed.String())
		}
	})
	select {
	case line := <-lines:
		m := servingOn.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s's first line is %q, not \"… serving on http://host:port/\"", filepath.Base(dir), line)
		}
		return m[1]
	case <-time.After(time.Minute):
		t.Fatalf("%s printed nothing within a minute", filepath.Base(dir))
		return ""
	}
}
