// Package check is what the checks of this step's exercises share: send a
// request to the running step over a real connection, read the response by
// its framing, and, when it is not what the exercise asks for, say what was
// sent, what came back, the difference, and a command that reproduces it.
// Step 08 adds requests held in a worker (Hold) and the Python the step
// needs (NeedPython).
package check

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
	"github.com/google/go-cmp/cmp"
)

// clip is how much of what was sent and received a failure shows.
const clip = 2 << 10

// exchange is how long one request may take to be answered. A server that
// never answers fails the check instead of hanging it; a minute is many
// times what any request here takes, even one that waits for a new Python
// worker to start on a loaded machine.
const exchange = time.Minute

// NeedPython skips a check that starts the step, with a one-line reason,
// when this machine has no python3 (the step runs its apps in Python);
// where COURSE_REQUIRE_PEERS is set (CI) it fails instead. A check of a
// server already running (COURSE_SERVER) needs no Python of its own.
func NeedPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err == nil || os.Getenv("COURSE_SERVER") != "" {
		return
	}
	if os.Getenv("COURSE_REQUIRE_PEERS") != "" {
		t.Fatal("python3 is not installed (COURSE_REQUIRE_PEERS is set: this check must run)")
	}
	t.Skip("python3 is not installed; step 08 runs its apps in Python")
}

// Conn is one connection to the step under check.
type Conn struct {
	t    *testing.T
	addr string
	conn net.Conn
	br   *bufio.Reader
	read bytes.Buffer // what came back since the last Send began
}

// Dial connects to the step listening on addr; a refused connection fails
// the check.
func Dial(t *testing.T, addr string) *Conn {
	t.Helper()
	c, err := TryDial(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TryDial connects to addr, or says why it could not.
func TryDial(t *testing.T, addr string) (*Conn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	c := &Conn{t: t, addr: addr, conn: conn}
	c.br = bufio.NewReader(io.TeeReader(c.conn, &c.read))
	return c, nil
}

// Response is one response as the client read it.
type Response struct {
	Request string // what was sent
	Raw     []byte // what came back (and perhaps the start of what followed)
	Status  int
	Header  http.Header
	Body    []byte // de-chunked; none for a HEAD
	addr    string
}

// Get sends a GET for target with a Host header and the header lines
// given ("Accept: application/json"), and reads the response.
func (c *Conn) Get(target string, headers ...string) *Response {
	c.t.Helper()
	return c.Send(c.Request("GET", target, headers...))
}

// Request is the bytes of an HTTP/1.1 request head with its Host the
// step's address, and the header lines given; with no Content-Length or
// Transfer-Encoding among them, the request has no body.
func (c *Conn) Request(method, target string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, c.addr)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// Send writes request and reads one response by its framing; a response
// that cannot be read (no answer, broken framing) fails the check at once.
func (c *Conn) Send(request string) *Response {
	c.t.Helper()
	r, err := c.TrySend(request)
	if err != nil {
		c.fatal(r, "%v", err)
	}
	return r
}

// TrySend is Send for a check that says itself what a failure means.
func (c *Conn) TrySend(request string) (*Response, error) {
	c.read.Reset()
	r := &Response{Request: request, addr: c.addr}
	c.conn.SetDeadline(time.Now().Add(exchange))
	if _, err := io.WriteString(c.conn, request); err != nil {
		return r, fmt.Errorf("sending the request failed: %v (did the server close the connection?)", err)
	}
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return r, fmt.Errorf("no readable response: %v", err)
	}
	r.Body, err = io.ReadAll(resp.Body)
	r.Raw = bytes.Clone(c.read.Bytes())
	if err != nil {
		return r, fmt.Errorf("the body does not end where its framing says: %v", err)
	}
	r.Status, r.Header = resp.StatusCode, resp.Header
	return r, nil
}

// TryGet sends GET target on a new connection to addr, and reads the
// response or says why it could not.
func TryGet(t *testing.T, addr, target string) (*Response, error) {
	c, err := TryDial(t, addr)
	if err != nil {
		return nil, err
	}
	return c.TrySend(c.Request("GET", target))
}

func (c *Conn) fatal(r *Response, format string, args ...any) {
	c.t.Helper()
	r.Raw = bytes.Clone(c.read.Bytes())
	c.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), r.exchange())
}

// Expect fails the check, and goes on, when got is not want: what names
// the property checked ("GET /_pool with both workers busy"). It reports
// whether they were equal, for a check that cannot go on without.
func (r *Response) Expect(t *testing.T, what string, want, got any) bool {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: not what the exercise asks for (-want +got):\n%s%s", what, diff, r.exchange())
		return false
	}
	return true
}

// exchange shows the request, the response and how to reproduce them.
func (r *Response) exchange() string {
	return fmt.Sprintf("sent:     %q\nreceived: %q\nreproduce: %s\n",
		clipped([]byte(r.Request)), clipped(r.Raw), transcript.Reproduce([]byte(r.Request), r.addr))
}

func clipped(b []byte) string {
	if len(b) > clip {
		return string(b[:clip]) + fmt.Sprintf("… (%d bytes more)", len(b)-clip)
	}
	return string(b)
}
