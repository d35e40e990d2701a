// Package check is what the checks of this step's exercises share: send
// requests to the running step over a real connection, read each response
// by its framing, and, when one is not what the exercise asks for, say
// what was sent, what came back, the difference, and a command that
// reproduces it.
package check

import (
	"bufio"
	"bytes"
	"errors"
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

// Conn is one connection to the step under check. For the report it
// keeps the requests sent since the last response was read, and the
// bytes received since the current response began.
type Conn struct {
	t        *testing.T
	addr     string
	conn     net.Conn
	br       *bufio.Reader
	pending  bytes.Buffer // written, no response read for it yet
	request  []byte       // what the response being read answers
	received bytes.Buffer
	from     int // where in received the response being read starts
}

// Dial connects to the step listening on addr (every read and write has
// transcript.Dial's deadline, so a server that never answers fails).
func Dial(t *testing.T, addr string) *Conn {
	t.Helper()
	c := &Conn{t: t, addr: addr, conn: transcript.Dial(t, addr)}
	c.br = bufio.NewReader(io.TeeReader(c.conn, &c.received))
	return c
}

// Request is the bytes of an HTTP/1.1 request with no body: its Host is
// the step's address, then the header lines given ("Accept: */*").
func (c *Conn) Request(method, target string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, c.addr)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// Get sends a GET for target, with the header lines given, and reads
// the response.
func (c *Conn) Get(target string, headers ...string) *Response {
	c.t.Helper()
	return c.Send(c.Request("GET", target, headers...))
}

// Send writes request and reads one response.
func (c *Conn) Send(request string) *Response {
	c.t.Helper()
	c.Write(request)
	method, _, _ := strings.Cut(request, " ")
	return c.Read(method)
}

// Write sends bytes without reading anything back: to send several
// requests before reading the first response.
func (c *Conn) Write(request string) {
	c.t.Helper()
	c.pending.WriteString(request)
	if _, err := io.WriteString(c.conn, request); err != nil {
		c.Fatalf("sending failed: %v (did the server close the connection?)", err)
	}
}

// Read reads the next response, to a request made with method, by its
// framing. A response that cannot be read (none, or framing that does
// not hold) fails the check at once.
func (c *Conn) Read(method string) *Response {
	c.t.Helper()
	// Requests sent together (pipelined) are all shown with the first
	// response, and with each one after it.
	if c.pending.Len() > 0 {
		c.request = bytes.Clone(c.pending.Bytes())
		c.pending.Reset()
	}
	c.from = c.received.Len()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.Fatalf("no readable response: %v", err)
	}
	r := &Response{conn: c, Request: c.request, Status: resp.StatusCode, Header: resp.Header, Closed: resp.Close}
	r.Body, err = io.ReadAll(resp.Body)
	r.Raw = bytes.Clone(c.received.Bytes()[c.from:])
	if err != nil {
		c.Fatalf("the body does not end where its framing says: %v", err)
	}
	r.Chunked = len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
	return r
}

// Fatalf fails the check at once, with the exchange so far.
func (c *Conn) Fatalf(format string, args ...any) {
	c.t.Helper()
	sent := c.request
	if c.pending.Len() > 0 {
		sent = c.pending.Bytes()
	}
	c.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), exchange(c.addr, sent, c.received.Bytes()[c.from:]))
}

// exchange shows what was sent, what came back, and how to send it again.
func exchange(addr string, sent, received []byte) string {
	return fmt.Sprintf("sent:     %q\nreceived: %q\nreproduce: %s\n",
		clipped(sent), clipped(received), transcript.Reproduce(sent, addr))
}

func clipped(b []byte) string {
	if len(b) > clip {
		return string(b[:clip]) + fmt.Sprintf("… (%d bytes more)", len(b)-clip)
	}
	return string(b)
}

// Response is one response as a client read it.
type Response struct {
	conn    *Conn
	Request []byte // the request (or pipelined requests) it answers
	Raw     []byte // its bytes as they came: status line, header, body
	Status  int
	Header  http.Header
	Body    []byte // de-chunked; none for a HEAD
	Chunked bool   // framed by Transfer-Encoding: chunked
	Closed  bool   // the server says it closes the connection after it
}

// Expect fails the check, and goes on, when got is not want; what names
// the property checked ("the greeting").
func (r *Response) Expect(what string, want, got any) {
	r.conn.t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		r.conn.t.Errorf("%s: not what the exercise asks for (-want +got):\n%s%s", what, diff, r.exchange())
	}
}

// Fatalf fails the check at once, with the exchange so far.
func (r *Response) Fatalf(format string, args ...any) {
	r.conn.t.Helper()
	r.conn.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), r.exchange())
}

// Errorf fails the check, and goes on, with the exchange so far.
func (r *Response) Errorf(format string, args ...any) {
	r.conn.t.Helper()
	r.conn.t.Errorf("%s\n%s", fmt.Sprintf(format, args...), r.exchange())
}

func (r *Response) exchange() string { return exchange(r.conn.addr, r.Request, r.Raw) }

// ExpectClosed reads on until the server closes the connection; any byte
// that still comes is a response too many.
func (c *Conn) ExpectClosed() {
	c.t.Helper()
	c.from = c.received.Len()
	_, err := io.Copy(io.Discard, c.br)
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		c.Fatalf("the server kept the connection open; it should have closed it")
	case c.received.Len() > c.from:
		c.Fatalf("%d more bytes came after the last response, before the close", c.received.Len()-c.from)
	}
}
