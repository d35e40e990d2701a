// Package check is what the checks of this step's exercises share: send a
// request to the running step over a real connection, read the response by
// its framing, and, when it is not what the exercise asks for, say what was
// sent, what came back, the difference, and a command that reproduces it.
package check

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"example.com/wsgicourse/transcript"
	"github.com/google/go-cmp/cmp"
)

// clip is how much of what was sent and received a failure shows.
const clip = 2 << 10

// Conn is one connection to the step under check.
type Conn struct {
	t    *testing.T
	addr string
	conn net.Conn
	br   *bufio.Reader
	read bytes.Buffer // what came back since the last Send began
}

// Dial connects to the step listening on addr.
func Dial(t *testing.T, addr string) *Conn {
	c := &Conn{t: t, addr: addr, conn: transcript.Dial(t, addr)}
	c.br = bufio.NewReader(io.TeeReader(c.conn, &c.read))
	return c
}

// Response is one response as the client read it.
type Response struct {
	Request string // what was sent
	Raw     []byte // what came back (and perhaps the start of what followed)
	Status  int
	Header  http.Header
	Body    []byte // de-chunked; none for a HEAD
	Chunked bool   // framed by Transfer-Encoding: chunked
	Closed  bool   // the server says it closes the connection after it
	addr    string
}

// Get sends a GET for target with a Host header and the header lines
// given ("Accept-Encoding: gzip"), and reads the response.
func (c *Conn) Get(target string, headers ...string) *Response {
	c.t.Helper()
	return c.Send(c.Request("GET", target, headers...))
}

// Request is the bytes of an HTTP/1.1 request with no body, its Host the
// step's address, and the header lines given.
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
	return c.send(request, false)
}

// SendCut is Send for a response whose body the server is expected to cut
// short (an app that fails after its first chunk): Body is what arrived
// before the cut, and a body that ends properly fails the check.
func (c *Conn) SendCut(request string) *Response {
	c.t.Helper()
	return c.send(request, true)
}

func (c *Conn) send(request string, cut bool) *Response {
	c.t.Helper()
	c.read.Reset()
	r := &Response{Request: request, addr: c.addr}
	if _, err := io.WriteString(c.conn, request); err != nil {
		c.fatal(r, "sending the request failed: %v (did the server close the connection?)", err)
	}
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.fatal(r, "no readable response: %v", err)
	}
	r.Body, err = io.ReadAll(resp.Body)
	r.Raw = bytes.Clone(c.read.Bytes())
	switch {
	case err != nil && !cut:
		c.fatal(r, "the body does not end where its framing says: %v", err)
	case err == nil && cut:
		c.fatal(r, "the body ended properly; this response should have been cut short")
	}
	r.Status, r.Header, r.Closed = resp.StatusCode, resp.Header, resp.Close
	r.Chunked = len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
	return r
}

func (c *Conn) fatal(r *Response, format string, args ...any) {
	c.t.Helper()
	r.Raw = bytes.Clone(c.read.Bytes())
	c.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), r.exchange())
}

// Expect fails the check, and goes on, when got is not want: what names
// the property checked ("the count, streamed").
func (r *Response) Expect(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: not what the exercise asks for (-want +got):\n%s%s", what, diff, r.exchange())
	}
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
