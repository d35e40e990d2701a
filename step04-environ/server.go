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
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// What the log keeps and shows of one exchange. maxLogCopy bounds the copy
// of what the parser read: the largest head the parser accepts, plus what
// bufio read ahead of it, fit well inside. maxLogBody is how much of a
// response body the log prints.
const (
	maxLogCopy = 64 << 10
	maxLogBody = 2 << 10
)

// worstCasePerConnection is the most memory, in bytes, one connection can
// make this server hold; the README states it, and a test checks the
// number. It leaves out Go's own overhead, and the response the app
// returns, which this step collects whole (step 05 streams it).
const worstCasePerConnection = 4096 + // the bufio.Reader's buffer
	4*(maxRequestLine+maxHeaderBytes) + // the head: as read, as Fields, and in the environ, where a byte may take two
	2*maxLogCopy + // the log's copy of the head (a bytes.Buffer may grow to twice what it holds)
	maxTrailerBytes + // the trailer fields of a chunked body
	maxBodyBytes // the body, if the app reads all of it into memory

// Server runs a WSGI application behind a raw TCP socket.
type Server struct {
	App         App           // the application that answers every request
	Log         io.Writer     // each exchange, printed the way curl -v shows it; nil: no log (-quiet)
	Errors      io.Writer     // wsgi.errors, shared by all connections at once; nil means os.Stderr
	ReadTimeout time.Duration // how long a client may take to send its head and body
	logMu       sync.Mutex    // one exchange at a time in the log
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

// handle serves one connection: read one request, run the app, answer, close.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(cmp.Or(s.ReadTimeout, 10*time.Second)))
	// Keep a copy of what the parser reads, so the log shows the head
	// exactly as it arrived, even when the parser refuses it. The log
	// prints only the head, so once the head is read the copy stops: the
	// body the app reads is never kept. Without a log (-quiet) there is no
	// copy at all.
	received := &clipped{max: maxLogCopy}
	var from io.Reader = conn
	if s.Log != nil {
		from = io.TeeReader(conn, received)
	}
	br := bufio.NewReader(from)
	req, err := readRequest(br)
	if errors.Is(err, io.EOF) {
		return // connected and left without a request: nothing to answer
	}
	var head []byte
	if s.Log != nil {
		received.max = received.Len()                          // keep nothing more
		head = received.Bytes()[:received.Len()-br.Buffered()] // not the body read ahead
	}
	// An interim "100 Continue" goes to the client at once; sent keeps a
	// copy for the log.
	var sent bytes.Buffer
	var interim io.Writer = conn
	if s.Log != nil {
		interim = io.MultiWriter(conn, &sent)
	}
	// What the server has to say about this request (a panic and its
	// stack) is printed after the exchange, not in the middle of another.
	var report bytes.Buffer
	var response []byte
	if err != nil {
		response = errorResponse(err)
	} else {
		response = s.respond(req, br, conn, interim, &report)
	}
	conn.Write(response)
	s.logExchange(conn.RemoteAddr(), head, append(sent.Bytes(), response...), report.Bytes())
	lingeringClose(conn)
}

// respond turns one parsed request into the environ, calls the app and
// returns the whole response to send. A failing app is reported to report.
func (s *Server) respond(req *Request, br *bufio.Reader, conn net.Conn, interim, report io.Writer) []byte {
	input, err := newBody(req, br, interim)
	if err != nil {
		return errorResponse(err) // framing we refuse: the app never runs
	}
	environ, err := buildEnviron(req, conn.LocalAddr(), conn.RemoteAddr(), input, s.errors())
	if err != nil {
		return errorResponse(err)
	}
	response := runApp(s.App, environ, report)
	// A body that broke while the app read it (a bad chunk, too large, cut
	// short) is the client's error: answer that, not what the app made of
	// half a body.
	if err := input.Err(); err != nil {
		return errorResponse(err)
	}
	return response
}

// errAppFailed is the answer when the app fails, with wsgiref's words.
var errAppFailed = &statusError{Code: 500, Text: "A server error occurred.  Please contact the administrator."}

// runApp calls the app and collects its whole response: the status and
// headers it gives start_response, then every chunk of its body. (Step 05
// checks them and sends them as they come.) A panic in the app or in its
// body's iterator is WSGI's uncaught exception: it goes to report with its
// stack (and from there to wsgi.errors), and the client gets a 500, which
// is still possible because nothing has been sent yet.
func runApp(app App, environ Environ, report io.Writer) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(report, "panic: %v\n%s", p, debug.Stack())
			resp = errorResponse(errAppFailed)
		}
	}()
	var status string
	var headers []Header
	var body bytes.Buffer
	started := false
	startResponse := func(s string, h []Header, _ error) Write { // exc_info: step 05
		status, headers, started = s, h, true
		return func(data []byte) error {
			body.Write(data)
			return nil
		}
	}
	for chunk := range app(environ, startResponse) {
		body.Write(chunk)
	}
	if !started {
		panic("the app returned without calling start_response")
	}
	return response(status, headers, body.Bytes())
}

// errorResponse turns a refused or failed request into a full HTTP answer:
// a status line, headers and a one-line reason. Never a bare body, never
// silence.
func errorResponse(err error) []byte {
	code, text := 400, err.Error() // a body cut short, or a broken connection the client will never read
	var refused *statusError
	var netErr net.Error
	switch {
	case errors.As(err, &refused):
		code, text = refused.Code, refused.Text
	case errors.As(err, &netErr) && netErr.Timeout():
		code, text = 408, "the request did not arrive in time"
	}
	return response(fmt.Sprintf("%d %s", code, reasonPhrase(code)),
		[]Header{{"Content-Type", "text/plain; charset=utf-8"}}, []byte(text+"\n"))
}

// response writes a complete HTTP/1.1 response by hand: the status line,
// the headers in order, then Content-Length, counted here so it is always
// right (one the app set is dropped), and Connection: close, because we
// hang up afterwards. Every line ends in CRLF.
func response(status string, headers []Header, body []byte) []byte {
	b := fmt.Appendf(nil, "HTTP/1.1 %s\r\n", status)
	for _, h := range headers {
		if !strings.EqualFold(h.Name, "Content-Length") {
			b = fmt.Appendf(b, "%s: %s\r\n", h.Name, h.Value)
		}
	}
	b = fmt.Appendf(b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	return append(b, body...)
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
func (s *Server) logExchange(client net.Addr, head, response, report []byte) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.Log != nil { // -quiet: not even the formatting is done
		s.Log.Write(formatExchange(client, head, response))
	}
	s.errors().Write(report)
}

func formatExchange(client net.Addr, head, response []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "* connection from %s\n", client)
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
		fmt.Fprintf(&b, "\n* %d more bytes of body not shown\n", len(rest)-maxLogBody)
	case rest != "" && !strings.HasSuffix(rest, "\n"):
		b.WriteString("\n") // so the next entry starts on a line of its own
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
