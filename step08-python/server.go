package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"
)

// worstCasePerConnection is the most memory, in bytes, one connection can
// make this server hold; the README states it, and a test checks the
// number. It leaves out Go's own overhead and what the app itself keeps.
// (Step 05's log kept two copies of each exchange; this server has no such
// log, so nothing else is copied.)
const worstCasePerConnection = 2*4096 + // the bufio.Reader's and bufio.Writer's buffers
	4*(maxRequestLine+maxHeaderBytes) + // the head: as read, as Fields, and in the environ, where a byte may take two
	maxTrailerBytes + // the trailer fields of a chunked body
	maxBodyBytes // the body, if the app reads all of it into memory

// Server runs a WSGI application behind a raw TCP socket. It logs nothing
// but problems (to Errors): the access log is middleware (accesslog.go).
type Server struct {
	App           App           // the application that answers every request
	Errors        io.Writer     // wsgi.errors, shared by all connections at once; nil means os.Stderr
	HeaderTimeout time.Duration // step07: how long a client may take to send a request's head, from its first byte; 0 means 10s
	BodyTimeout   time.Duration // step07: how long it may take to send the whole body, once the head is in; 0 means 30s
	IdleTimeout   time.Duration // how long a kept-alive connection may wait for its next request; 0 means 30s
	WriteTimeout  time.Duration // how long one write may wait for a client that does not read; 0 means 30s
	BodyMemory    int64         // step07: bytes request bodies may hold at once (memory.go); 0 means no budget
	conns         connTracker   // step07: every open connection, for Shutdown and the cap (shutdown.go)
	bodies        bodyBudget    // step07: what the bodies in progress hold of BodyMemory
}

// Serve accepts connections until ln is closed. Each connection gets its
// own goroutine: a client that stalls halfway through its request only
// holds up its own goroutine, never the accept loop or other clients.
func (s *Server) Serve(ln net.Listener) error {
	for {
		conn, err := accept(ln)
		if err != nil {
			return nil // the listener was closed: we are shutting down
		}
		go s.handle(conn)
	}
}

// ServeOneAtATime is the loop of the Python tutorials: accept, handle,
// repeat. While one client dawdles, every other client waits in the
// kernel's backlog. It is here so you can watch that happen (-one-at-a-time).
func (s *Server) ServeOneAtATime(ln net.Listener) error {
	for {
		conn, err := accept(ln)
		if err != nil {
			return nil
		}
		s.handle(conn)
	}
}

// accept waits for the next connection. A failure such as running out of
// file descriptors is retried after a pause instead of spinning; only a
// closed listener ends the loop.
func accept(ln net.Listener) (net.Conn, error) {
	for {
		conn, err := ln.Accept()
		if err == nil || errors.Is(err, net.ErrClosed) {
			return conn, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// handle serves one connection: request after request, as long as both
// sides want to keep it (HTTP/1.1 persistence, RFC 9112 §9.3).
func (s *Server) handle(conn net.Conn) {
	defer s.forget(conn) // step07: runs after the Close below
	defer conn.Close()
	// One reader and one writer for the connection's whole life: every
	// request reuses their buffers, and a response that fits in bw's 4 KiB
	// leaves in one write.
	br := bufio.NewReader(conn)
	bw := bufio.NewWriter(timedWriter{conn, cmp.Or(s.WriteTimeout, 30*time.Second)})
	// What every request on the connection can share (perConn).
	c := &perConn{environ: environOf(conn.LocalAddr(), conn.RemoteAddr())}
	closing := s.ShuttingDown // a method value is a new func each time it is taken: take it once
	for first := true; ; first = false {
		// step07: a connection that waits for a request may be closed by
		// Shutdown; once its first byte is here, it is answered.
		if !s.waitingFor(conn) {
			return
		}
		if !first {
			// Between requests the client may take its time, up to the
			// idle timeout; then we close, which RFC 9112 §9.5 allows.
			// Pipelined requests are already waiting in br.
			conn.SetReadDeadline(time.Now().Add(cmp.Or(s.IdleTimeout, 30*time.Second)))
		} else {
			conn.SetReadDeadline(time.Now().Add(cmp.Or(s.HeaderTimeout, 10*time.Second))) // step07: wait for the first byte too
		}
		_, peekErr := br.Peek(1)
		if peekErr != nil && !first {
			return // gone, or idle too long: close without a word
		} // step07: on the first request, readRequest says what went wrong (408)
		if !s.answering(conn) { // step07
			return
		}
		// step07: the head's time runs from its first byte. A new
		// connection that sent none has used its time up: no fresh start.
		// A head already in br is read without waiting for the client,
		// so it needs no deadline (headBuffered).
		if peekErr == nil && !headBuffered(br) {
			conn.SetReadDeadline(time.Now().Add(cmp.Or(s.HeaderTimeout, 10*time.Second)))
		}
		req := &c.req
		err := readRequest(br, req, &c.lines)
		// step07: the head is in; the body gets a deadline of its own. It
		// is one deadline for the whole body, not one per read: a client
		// that sends a byte every few seconds (a slowloris body) is cut off
		// all the same. The price: a whole upload must fit in it (the
		// default 30s and 1 MiB body limit ask for 35 KB/s), so a server
		// that takes large uploads from slow clients raises it. A request
		// without a body reads nothing more before the next request's
		// deadline is set: it needs none (announcesBody).
		if err == nil && announcesBody(req) {
			conn.SetReadDeadline(time.Now().Add(cmp.Or(s.BodyTimeout, 30*time.Second)))
		}
		if errors.Is(err, io.EOF) {
			return // connected (or kept alive) and left without a request
		}
		keepAlive := false
		if err != nil {
			// A head we refuse is not a request we understood: it may have
			// been cut off before its Accept line, or be refused for a
			// field line. There is nothing to negotiate, so the answer is
			// plain text. A HEAD refused once its method was read gets no body.
			writeError(bw, err, req.Method == "HEAD", false)
		} else if refusal := refusedOnReserve(conn, req); refusal != nil { // step07: the probe's reserve takes GET /healthz only (limit.go)
			bw.Write(refusal)
			bw.Flush()
		} else {
			keepAlive = s.respond(c, br, closing, bw)
		}
		if !keepAlive {
			lingeringClose(conn)
			return
		}
	}
}

// headBuffered reports whether br already holds a whole head: it starts
// with a request line and holds an empty line ("\r\n\r\n" ends the line
// before it and is the empty line). readRequest stops at the first empty
// line, or earlier if it refuses the head, so it reads nothing from the
// client. Setting a deadline reads the clock and moves a timer; a
// kept-alive client's head usually arrives in one piece, so most requests
// skip it.
func headBuffered(br *bufio.Reader) bool {
	buf, _ := br.Peek(br.Buffered())
	return len(buf) > 0 && buf[0] != '\r' && buf[0] != '\n' && bytes.Contains(buf, []byte("\r\n\r\n"))
}

// announcesBody reports whether the head says a body follows: only
// Content-Length or Transfer-Encoding does (RFC 9112 §6.3). Without one,
// no byte of the request is left to read.
func announcesBody(req *Request) bool {
	return slices.ContainsFunc(req.Fields, func(f Field) bool {
		return strings.EqualFold(f.Name, "Content-Length") || strings.EqualFold(f.Name, "Transfer-Encoding")
	})
}

// perConn is what the server keeps for a connection's whole life and
// uses again for each request on it, so that a kept-alive request does not
// make it anew. The app never sees any of it: it gets a fresh environ,
// wsgi.input and start_response every time. And each request is done with
// it before the next one is read.
type perConn struct {
	req     Request      // the request being served (readRequest)
	lines   keptLines    // the last head's first lines (parse.go)
	headers []Header     // room for the response's copy of the app's headers (startResponse)
	environ *connEnviron // what the environs of its requests share (environ.go)
	dates   dateCache    // the Date value of this second (response.go)
}

// perRequest is what each request gets anew: its wsgi.input and its
// response. Neither can be kept for the next request, as the app may hold
// on to them (wsgi.input, or write, which is the response's); but both
// live exactly as long as the request, so one allocation holds the two.
type perRequest struct {
	input body
	resp  response
}

// maxKeptHeaders is the most headers whose room a connection keeps from one
// response to the next: an app that once sends a thousand headers does
// not make its connection hold the room for them until it closes.
const maxKeptHeaders = 32

// respond turns the parsed request c.req into the environ, runs the app
// and sends its response. It reports whether the connection may carry another.
func (s *Server) respond(c *perConn, br *bufio.Reader, closing func() bool, bw *bufio.Writer) bool {
	req := &c.req
	isHead := req.Method == "HEAD"
	// One allocation for what the request makes anew (perRequest).
	pr := new(perRequest)
	input := &pr.input
	// An interim "100 Continue" goes out through bw, which flushes it.
	if err := input.frame(req, br, bw); err != nil {
		writeError(bw, err, isHead, acceptsJSON(req)) // framing we refuse: the app never runs
		return false
	}
	release, ok := s.reserveBody(input, bw, isHead) // step07: room in memory for the body, or a 503 (memory.go)
	if !ok {
		return false
	}
	defer release()
	errs := cmp.Or[io.Writer](s.Errors, os.Stderr)
	environ, err := buildEnvironAt(req, c.environ, input, errs)
	if err != nil {
		writeError(bw, err, isHead, acceptsJSON(req))
		return false
	}
	resp := &pr.resp
	resp.prepare(bw, req, input, errs, time.Now)
	resp.closing = closing // step07: say Connection: close once Shutdown has begun
	resp.headers = c.headers[:0]
	resp.dates = &c.dates
	// PEP 3333 lets a server add keys of its own, with a dotted name. This
	// one tells the access log which status the client gets (response.go).
	environ["server.response_status"] = resp.clientStatus
	keepAlive := resp.serve(s.App, environ)
	if cap(resp.headers) <= maxKeptHeaders {
		clear(resp.headers) // the app's strings can go
		c.headers = resp.headers[:0]
	}
	// The next request starts right after this body: skip what the app left.
	return keepAlive && input.drain() == nil
}

// writeError answers a request we refuse; the connection then closes.
func writeError(bw *bufio.Writer, err error, isHead, asJSON bool) {
	bw.Write(errorResponse(err, isHead, asJSON, time.Now()))
	bw.Flush()
}

// acceptsJSON asks the error pages' question (wantsJSON, responses.go) of a
// parsed head: its Accept lines joined with commas, as in HTTP_ACCEPT.
// It runs only on the way to an error answer, never for a good request.
func acceptsJSON(req *Request) bool {
	var accept []string
	for _, f := range req.Fields {
		if strings.EqualFold(f.Name, "Accept") {
			accept = append(accept, f.Value)
		}
	}
	return wantsJSON(strings.Join(accept, ","))
}

// errorResponse turns a refused request into a full HTTP answer: a status
// line, Date and Server like every response, and a one-line reason. Never a
// bare body, never silence. The reason is plain text, or with asJSON the
// error pages' JSON (errorJSON, responses.go). A HEAD gets the same head
// and no body (RFC 9110 §9.3.2), its Content-Length still saying what GET
// would get.
func errorResponse(err error, isHead, asJSON bool, now time.Time) []byte {
	code, text := errorStatus(err)
	contentType, body := "text/plain; charset=utf-8", []byte(text+"\n")
	if asJSON {
		contentType, body = "application/json", errorJSON(code, text, "")
	}
	head := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n"+
		"Date: %s\r\n"+
		"Server: %s\r\n"+
		"Content-Type: %s\r\n"+
		"Content-Length: %d\r\n"+
		"Connection: close\r\n"+
		"\r\n", code, reasonPhrase(code), now.UTC().Format(imfFixdate), serverSoftware, contentType, len(body))
	if isHead {
		return head
	}
	return append(head, body...)
}

// errorStatus is the status code and one-line reason the server answers
// err with: a refusal's own, 408 for a read that timed out, else 400 (a
// body cut short, or a broken connection the client will never read).
func errorStatus(err error) (code int, text string) {
	var refused *statusError
	var netErr net.Error
	switch {
	case errors.As(err, &refused):
		return refused.Code, refused.Text
	case errors.As(err, &netErr) && netErr.Timeout():
		return 408, "the request did not arrive in time"
	}
	return 400, err.Error()
}

// timedWriter gives every write to the client a deadline of its own. A
// client that stops reading fills the socket's buffers, and then a write
// would block its goroutine (and the app's body) forever; with a deadline
// the write fails, the body is stopped and its cleanup runs. A long stream
// that keeps moving is never cut, because each write gets a fresh deadline.
type timedWriter struct {
	conn    net.Conn
	timeout time.Duration
}

func (w timedWriter) Write(p []byte) (int, error) {
	w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.conn.Write(p)
}

// lingeringClose stops sending, then reads what the client still sends
// (a body we did not read, say) for a moment before closing. Closing a
// socket with unread bytes makes the kernel send a reset, and the client
// may then lose the response it has not read yet.
func lingeringClose(conn net.Conn) {
	// step07: any conn that can half-close, limit.go's wrapper too.
	if tcp, ok := conn.(interface{ CloseWrite() error }); ok {
		tcp.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}
