package transcript

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// A README shows what the server prints for a transcript's exchange
// between two markers; the block is the server's own log, never typed:
//
//	<!-- server log: get-root -->
//	…generated block…
//	<!-- end server log -->
var logBlock = regexp.MustCompile(`(?s)(<!-- server log: ([\w.-]+) -->\n).*?(<!-- end server log -->)`)

// What changes from run to run in a log: the client's port and the Date
// the server sends. Both are written as placeholders, as in transcripts.
var (
	clientPort = regexp.MustCompile(`(?m)^(\* (?:request \d+ on the )?connection from 127\.0\.0\.1:)\d+$`)
	logDate    = regexp.MustCompile(`(?m)^(< Date: ).*$`)
)

// CheckREADMELog regenerates each server-log block of the step's README.md:
// it starts newServe(log) on 127.0.0.1:0, replays the named transcript's
// requests and shows what the server wrote to log, with the client's port
// as <PORT>, the Date as <DATE>, and CR LF as the line end a terminal
// shows. The server must have logged an exchange
// by the time it closes the connection. With -update (or UPDATE_GOLDEN=1)
// the blocks are rewritten; otherwise a difference fails the test.
func CheckREADMELog(t *testing.T, newServe func(log io.Writer) func(net.Listener) error) {
	t.Helper()
	const path = "README.md"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var firstErr error
	fresh := logBlock.ReplaceAllFunc(old, func(block []byte) []byte {
		m := logBlock.FindSubmatch(block)
		printed, err := serverLog(t, newServe, filepath.Join("testdata", "transcripts", string(m[2])+".txtar"))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return block
		}
		return []byte(string(m[1]) + "```console\n" + printed + "```\n" + string(m[3]))
	})
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	settleREADME(t, path, old, fresh, "shows a server log the server no longer prints")
}

// serverLog replays one transcript against a fresh server and returns
// what that server logged.
func serverLog(t *testing.T, newServe func(io.Writer) func(net.Listener) error, path string) (string, error) {
	tr, err := Load(path)
	if err != nil {
		return "", err
	}
	var log lockedBuffer
	addr := Start(t, newServe(&log))
	if _, err := Replay(addr, tr); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	printed := clientPort.ReplaceAllString(log.String(), "${1}<PORT>")
	printed = logDate.ReplaceAllString(printed, "${1}<DATE>")
	// A body's CR LF (chunk framing) shows in a terminal as a line end.
	printed = strings.ReplaceAll(printed, "\r\n", "\n")
	if !strings.HasSuffix(printed, "\n") {
		printed += "\n" // keep the closing ``` on a line of its own
	}
	return printed, nil
}

// lockedBuffer is a log the server's goroutines write while the test reads.
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
