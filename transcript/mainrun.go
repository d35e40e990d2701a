package transcript

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// StartMain runs a step's run(ctx, args, stdout) function the way main
// does, with args (typically -addr 127.0.0.1:0), and returns the first line
// it prints. The step stops when the test ends; a run that fails to stop,
// or returns an error, fails the test.
func StartMain(t *testing.T, run func(context.Context, []string, io.Writer) error, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, stdoutW)
		stdoutW.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after its context ended, want nil", err)
			}
		case <-time.After(exchangeTimeout):
			t.Errorf("run did not return within %v of its context ending", exchangeTimeout)
		}
	})
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdoutR)
		line, _ := br.ReadString('\n')
		lines <- strings.TrimSuffix(line, "\n")
		io.Copy(io.Discard, br) // keep the step's later output from blocking it
	}()
	select {
	case line := <-lines:
		return line
	case <-time.After(exchangeTimeout):
		t.Fatalf("run printed nothing within %v", exchangeTimeout)
		return ""
	}
}

// Dial connects to addr for the length of the test. Every read and write
// on the connection has a deadline (10 s), so a server that never answers
// fails the test instead of hanging it; a test may set a shorter one.
func Dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(exchangeTimeout))
	return conn
}
