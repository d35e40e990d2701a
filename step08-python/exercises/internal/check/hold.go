package check

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A held request keeps one Python worker busy for as long as the check
// wants, with no clock: the exercises' apps answer POST /hold by calling
// write() with a first line, which the server must send at once (PEP
// 3333), and then reading the request's body, which the check sends only
// when it lets the worker go.

// Held is a request in a worker, waiting for its body.
type Held struct {
	c     *Conn
	r     *Response
	body  *bufio.Reader // the rest of the response body
	First string        // the first line the app wrote, without its "\n"
}

// holdBody is the body the check withholds: one byte.
const holdBody = "x"

// Hold sends POST target with a body of one byte, withholds the byte, and
// returns once the app has written its first line: the request then holds
// a worker until the check lets it go with Release.
func (c *Conn) Hold(target string) *Held {
	c.t.Helper()
	h := c.SendHold(target)
	h.Wait()
	return h
}

// SendHold sends what Hold sends and returns at once: for a request that
// waits in the queue until a worker comes free. Wait then waits for that.
func (c *Conn) SendHold(target string) *Held {
	c.t.Helper()
	request := c.Request("POST", target, "Content-Type: text/plain", fmt.Sprintf("Content-Length: %d", len(holdBody)))
	c.read.Reset()
	h := &Held{c: c, r: &Response{Request: request, addr: c.addr}}
	// An hour: the check holds the request as long as it needs to; it
	// never waits for this deadline.
	c.conn.SetDeadline(time.Now().Add(time.Hour))
	if _, err := io.WriteString(c.conn, request); err != nil {
		c.fatal(h.r, "sending the request failed: %v", err)
	}
	return h
}

// Wait reads the response's head and the app's first line, which arrive
// once the request has a worker.
func (h *Held) Wait() {
	c := h.c
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
	if err != nil {
		c.fatal(h.r, "no readable response to a request whose body the app has not read yet: %v "+
			"(the app called write(), which must send the headers and its bytes at once)", err)
	}
	h.r.Status, h.r.Header = resp.StatusCode, resp.Header
	h.body = bufio.NewReader(resp.Body)
	line, err := h.body.ReadString('\n')
	if err != nil {
		c.fatal(h.r, "the app's first line (written with write() before it reads the body) did not arrive: %v", err)
	}
	h.First = strings.TrimSuffix(line, "\n")
}

// Release sends the withheld body, reads the rest of the response and
// returns the whole of it; Body holds every line, the first one too.
func (h *Held) Release() *Response {
	h.c.t.Helper()
	if _, err := io.WriteString(h.c.conn, holdBody); err != nil {
		h.c.fatal(h.r, "sending the held request's body failed: %v", err)
	}
	rest, err := io.ReadAll(h.body)
	h.r.Request += holdBody
	h.r.Raw = bytes.Clone(h.c.read.Bytes())
	if err != nil {
		h.c.fatal(h.r, "the held request's response does not end where its framing says: %v", err)
	}
	h.r.Body = append([]byte(h.First+"\n"), rest...)
	h.c.conn.SetDeadline(time.Now().Add(exchange))
	return h.r
}

// Eventually asks ok again and again, 10 ms apart, until it says true,
// for at most a minute (the bound is generous on purpose: what it waits
// for takes milliseconds); then it fails the check with what.
func Eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after a minute: %s", what)
		}
	}
}

// Status is the held response's status code.
func (h *Held) Status() int { return h.r.Status }
