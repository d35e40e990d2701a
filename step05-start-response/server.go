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
	"strings"
	"sync"
	"time"
)

// What the log keeps and shows of one exchange. maxLogCopy bounds each of
// its two copies: of what the parser read (the largest head the parser
// accepts, plus what bufio read ahead, fit well inside), and of what was
// sent (the start of a long streamed body). maxLogBody is how much of a
// response body the log prints.
const (
	maxLogCopy = 64 << 10
	maxLogBody = 2 << 10
)

// worstCasePerConnection is the most memory, in bytes, one connection can
// make this server hold; the README states it, and a test checks the
// number. It leaves out Go's own overhead and what the app itself keeps.
const worstCasePerConnection = 2*4096 + // the bufio.Reader's and bufio.Writer's buffers
	4*(maxRequestLine+maxHeaderBytes) + // the head: as read, as Fields, and in the environ, where a byte may take two
	2*2*maxLogCopy + // the log's two copies (a bytes.Buffer may grow to twice what it holds)
	maxTrailerBytes + // the trailer fields of a chunked body
	maxBodyBytes // the body, if the app reads all of it into memory

// Server runs a WSGI application behind a raw TCP socket.
type Server struct {
	App          App           // the application that answers every request
	Log          io.Writer     // each exchange, printed the way curl -v shows it; nil: no log (-quiet)
	Errors       io.Writer     // wsgi.errors, shared by all connections at once; nil means os.Stderr
	ReadTimeout  time.Duration // how long a client may take to send a request's head and body
	IdleTimeout  time.Duration // how long a kept-alive connection may wait for its next request; 0 means 30s
	WriteTimeout time.Duration // how long one write may wait for a client that does not read; 0 means 30s
	logMu        sync.Mutex    // one exchange at a time in the log
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
	defer conn.Close()
	// Keep a copy of what the parser reads, so the log shows each head
	// exactly as it arrived, even when the parser refuses it, and of the
	// start of what we send, even when the app streams it in pieces.
	// Without a log (-quiet) there are no copies at all.
	received := &clipped{max: maxLogCopy}
	sent := &clipped{max: maxLogCopy}
	var from io.Reader = conn
	var to io.Writer = timedWriter{conn, cmp.Or(s.WriteTimeout, 30*time.Second)}
	if s.Log != nil {
		from, to = io.TeeReader(conn, received), io.MultiWriter(to, sent)
	}
	br := bufio.NewReader(from)
	bw := bufio.NewWriter(to)
	for n := 1; ; n++ { // n numbers the requests on this connection, for the log
		if n > 1 {
			// Between requests the client may take its time, up to the
			// idle timeout; then we close, which RFC 9112 §9.5 allows.
			// Pipelined requests are already waiting in br.
			conn.SetReadDeadline(time.Now().Add(cmp.Or(s.IdleTimeout, 30*time.Second)))
			if _, err := br.Peek(1); err != nil {
				return // gone, or idle too long: close without a word
			}
		}
		conn.SetReadDeadline(time.Now().Add(cmp.Or(s.ReadTimeout, 10*time.Second)))
		if s.Log != nil {
			// The log copies start at this request: of what was read before,
			// keep only the part still waiting in br (a pipelined request).
			received.Reset()
			received.max = maxLogCopy
			pending, _ := br.Peek(br.Buffered())
			received.Write(pending)
			sent.Reset()
		}

		req, err := readRequest(br)
		if errors.Is(err, io.EOF) {
			return // connected (or kept alive) and left without a request
		}
		var head []byte
		if s.Log != nil {
			// The log shows the head only: copy nothing more of this request.
			received.max = received.Len()
			head = received.Bytes()[:received.Len()-br.Buffered()] // not the body read ahead
		}
		// What the server has to say about this request (a panic and its
		// stack) is printed after the exchange, not in the middle of another.
		var report bytes.Buffer
		keepAlive := false
		if err != nil {
			// A HEAD refused once its method was read gets no body.
			writeError(bw, err, req != nil && req.Method == "HEAD")
		} else {
			keepAlive = s.respond(req, br, conn, bw, &report)
		}
		s.logExchange(conn.RemoteAddr(), n, head, sent.Bytes(), report.Bytes())
		if !keepAlive {
			lingeringClose(conn)
			return
		}
	}
}

// respond turns one parsed request into the environ, runs the app and
// sends its response. It reports whether the connection may carry another.
// What goes wrong in the app is reported to report.
func (s *Server) respond(req *Request, br *bufio.Reader, conn net.Conn, bw *bufio.Writer, report io.Writer) bool {
	isHead := req.Method == "HEAD"
	// An interim "100 Continue" goes out through bw, which flushes it.
	input, err := newBody(req, br, bw)
	if err != nil {
		writeError(bw, err, isHead) // framing we refuse: the app never runs
		return false
	}
	environ, err := buildEnviron(req, conn.LocalAddr(), conn.RemoteAddr(), input, s.errors())
	if err != nil {
		writeError(bw, err, isHead)
		return false
	}
	keepAlive := newResponse(bw, req, input, report, time.Now).serve(s.App, environ)
	// The next request starts right after this body: skip what the app left.
	return keepAlive && input.drain() == nil
}

// writeError answers a request we refuse; the connection then closes.
func writeError(bw *bufio.Writer, err error, isHead bool) {
	bw.Write(errorResponse(err, isHead, time.Now()))
	bw.Flush()
}

// errorResponse turns a refused request into a full HTTP answer: a status
// line, Date and Server like every response, and a one-line reason. Never a
// bare body, never silence. A HEAD gets the same head and no body
// (RFC 9110 §9.3.2), its Content-Length still saying what GET would get.
func errorResponse(err error, isHead bool, now time.Time) []byte {
	code, text := 400, err.Error() // a body cut short, or a broken connection the client will never read
	var refused *statusError
	var netErr net.Error
	switch {
	case errors.As(err, &refused):
		code, text = refused.Code, refused.Text
	case errors.As(err, &netErr) && netErr.Timeout():
		code, text = 408, "the request did not arrive in time"
	}
	body := text + "\n"
	if isHead {
		body = ""
	}
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n"+
		"Date: %s\r\n"+
		"Server: %s\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Connection: close\r\n"+
		"\r\n"+
		"%s", code, reasonPhrase(code), now.UTC().Format(imfFixdate), serverSoftware, len(text)+1, body)
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

// clipped keeps the first max bytes written to it: enough for the log,
// without holding a long body in memory.
type clipped struct {
	bytes.Buffer
	max int
}

func (c *clipped) Write(p []byte) (int, error) {
	c.Buffer.Write(p[:min(len(p), max(c.max-c.Len(), 0))])
	return len(p), nil
}

// lingeringClose stops sending, then reads what the client still sends
// (a body we did not read, say) for a moment before closing. Closing a
// socket with unread bytes makes the kernel send a reset, and the client
// may then lose the response it has not read yet.
func lingeringClose(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}

// errors is where wsgi.errors and the server's reports go.
func (s *Server) errors() io.Writer { return cmp.Or[io.Writer](s.Errors, os.Stderr) }

// logExchange prints one exchange like curl -v: "> " for what the client
// sent, "< " for what we answered (an interim 100 Continue, then the final
// response), the first maxLogBody bytes of its body as they are. Then it
// writes report, the server's words on this request (a panic's stack), to
// Errors. Both happen under one lock, so with many clients at once the
// stack still comes right after the 500 it explains. That is simpler to
// follow than routing every wsgi.errors line; the app's own writes to
// wsgi.errors still go out at once.
func (s *Server) logExchange(client net.Addr, n int, head, response, report []byte) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.Log != nil { // -quiet: not even the formatting is done
		s.Log.Write(formatExchange(client, n, head, response))
	}
	s.errors().Write(report)
}

// formatExchange starts with the client: a new connection is announced
// once, and a kept-alive connection's next requests are numbered, so two
// requests on one connection never read as two connections.
func formatExchange(client net.Addr, n int, head, response []byte) []byte {
	var b bytes.Buffer
	if n == 1 {
		fmt.Fprintf(&b, "* connection from %s\n", client)
	} else {
		fmt.Fprintf(&b, "* request %d on the connection from %s\n", n, client)
	}
	for _, line := range strings.SplitAfter(string(head), "\n") {
		if line != "" {
			fmt.Fprintf(&b, "> %s\n", visible(strings.TrimSuffix(line, "\r\n")))
		}
	}
	rest := string(response)
	for {
		respHead, body, _ := strings.Cut(rest, "\r\n\r\n")
		for _, line := range strings.Split(respHead, "\r\n") {
			fmt.Fprintf(&b, "< %s\n", line)
		}
		b.WriteString("<\n")
		rest = body
		if !strings.HasPrefix(respHead, "HTTP/1.1 100 ") {
			break // the final response; anything before it was interim
		}
	}
	b.WriteString(rest[:min(len(rest), maxLogBody)])
	switch {
	case len(rest) > maxLogBody:
		b.WriteString("\n* the rest of the body is not shown\n")
	case rest != "" && !strings.HasSuffix(rest, "\n"):
		b.WriteString("\n") // wsgiref's 500 page has no final newline: the next entry starts on a line of its own
	}
	return b.Bytes()
}

// visible shows s as printable ASCII: a tab, CR or LF as \t \r \n and any
// other byte outside 0x20-0x7E (a control byte, the bytes 0x80-0xFF of
// UTF-8 or Latin-1 text) as \xNN, so every byte the client sent can be seen.
func visible(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
