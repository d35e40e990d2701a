package transcript

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the response sections of the golden transcripts")

// Updating reports whether goldens should be rewritten: -update, or
// UPDATE_GOLDEN=1 for loops over many modules (go test work -update would
// fail in every package that does not import this one).
func Updating() bool {
	return *update || os.Getenv("UPDATE_GOLDEN") == "1"
}

// exchangeTimeout bounds one whole transcript, so a server that never
// answers fails the test instead of hanging it.
const exchangeTimeout = 10 * time.Second

// Replay sends a transcript's requests over one TCP connection to addr and
// returns the responses, Date values normalised. Each request is sent after
// the previous response has arrived; after the last one the client closes
// its writing side (as `printf … | nc` does) and reads until the server
// closes, so anything the server sends after the response shows up too.
func Replay(addr string, tr *Transcript) ([][]byte, error) {
	return ReplayWithin(addr, tr, exchangeTimeout)
}

// ReplayWithin is Replay with its own bound on the whole transcript (the
// dial, every request and every response): the course checker's -wait.
// A timeout is returned as an error that wraps os.ErrDeadlineExceeded.
func ReplayWithin(addr string, tr *Transcript, wait time.Duration) ([][]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	br := bufio.NewReader(conn)
	var got [][]byte
	for i, ex := range tr.Exchanges {
		if _, err := conn.Write(ex.Request); err != nil {
			return got, fmt.Errorf("sending request %d: %w", i+1, err)
		}
		last := i == len(tr.Exchanges)-1
		if last {
			conn.(*net.TCPConn).CloseWrite()
		}
		resp, err := readResponse(br, method(ex.Request))
		if last && err == nil {
			var rest []byte
			rest, err = readAll(br, wait)
			resp = append(resp, normaliseDates(rest, method(ex.Request))...)
		}
		got = append(got, resp)
		if err != nil {
			return got, fmt.Errorf("reading response %d: %w", i+1, err)
		}
	}
	return got, nil
}

// normaliseDates puts <DATE> into any further responses that came after
// the last expected one (pipelined requests sent in one section).
func normaliseDates(rest []byte, method string) []byte {
	br := bufio.NewReader(bytes.NewReader(rest))
	var out []byte
	for {
		if _, err := br.Peek(1); err != nil {
			return out
		}
		resp, _ := readResponse(br, method)
		out = append(out, resp...)
	}
}

// readAll reads until the server closes, naming a time-out plainly.
func readAll(br *bufio.Reader, wait time.Duration) ([]byte, error) {
	var rest bytes.Buffer
	_, err := rest.ReadFrom(br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("the server did not close the connection within %v after the client finished sending: %w", wait, os.ErrDeadlineExceeded)
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return rest.Bytes(), err
}

func method(request []byte) string {
	m, _, _ := bytes.Cut(request, []byte(" "))
	return string(m)
}

// Run replays every testdata/transcripts/*.txtar, one subtest per file,
// against serve started in-process on 127.0.0.1:0. learnerAddr is the
// step's default address, used in the reproduce command a failure prints.
func Run(t *testing.T, serve func(net.Listener) error, learnerAddr string) {
	t.Helper()
	dir := filepath.Join("testdata", "transcripts")
	all, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr := Start(t, serve)
	for _, tr := range all {
		t.Run(tr.Name, func(t *testing.T) {
			got, err := Replay(addr, tr)
			if err != nil {
				t.Errorf("%s: %v", tr.Path, err)
			}
			if Updating() {
				save(t, tr, got)
				return
			}
			Compare(t, tr, got, learnerAddr)
		})
	}
}

// Start serves on a fresh 127.0.0.1 port for the length of the test and
// returns the address. The server must return once its listener is closed.
func Start(t *testing.T, serve func(net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-done:
		case <-time.After(exchangeTimeout):
			t.Errorf("server did not return within %v of its listener closing", exchangeTimeout)
		}
	})
	return ln.Addr().String()
}

// Compare reports every exchange whose response differs from the golden.
func Compare(t *testing.T, tr *Transcript, got [][]byte, learnerAddr string) {
	t.Helper()
	for _, problem := range Problems(tr, got, learnerAddr, UpdateCommand(t, tr)) {
		t.Error(problem)
	}
}

// Problems compares the responses got with the golden ones, as a go-cmp
// diff of escaped lines so that a lost \r is visible, and says how to
// reproduce each difference and how to accept it if it is intended.
func Problems(tr *Transcript, got [][]byte, learnerAddr, updateCmd string) []string {
	var problems []string
	for i, ex := range tr.Exchanges {
		if ex.Response == nil {
			problems = append(problems, fmt.Sprintf(
				"%s: exchange %d has no -- response -- section yet; create it with:\n\t%s\nthen read the new section before you commit it",
				tr.Path, i+1, updateCmd))
			continue
		}
		var resp []byte
		if i < len(got) {
			resp = got[i]
		}
		if diff := cmp.Diff(Lines(ex.Response), Lines(resp)); diff != "" {
			problems = append(problems, fmt.Sprintf(
				"%s: response %d mismatch (-want +got):\n%s\nreproduce: %s\nif the change is intended: %s",
				tr.Path, i+1, diff, Reproduce(ex.Request, learnerAddr), updateCmd))
		}
	}
	return problems
}

func save(t *testing.T, tr *Transcript, got [][]byte) {
	t.Helper()
	for i := range tr.Exchanges {
		tr.Exchanges[i].Response = []byte{} // an empty section: nothing came back
		if i < len(got) {
			tr.Exchanges[i].Response = append(tr.Exchanges[i].Response, got[i]...)
		}
	}
	if err := os.WriteFile(tr.Path, tr.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("updated %s", tr.Path)
}

// UpdateCommand is the command that rewrites this transcript's golden,
// run from the repository root.
func UpdateCommand(t *testing.T, tr *Transcript) string {
	wd, _ := os.Getwd()
	top, _, _ := strings.Cut(t.Name(), "/")
	return fmt.Sprintf("go test ./%s -run '%s/^%s$' -update", filepath.Base(wd), top, tr.Name)
}
