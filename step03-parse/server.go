package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Server answers every HTTP request with what its parser read, over raw TCP.
type Server struct {
	Log         io.Writer     // each exchange, printed the way curl -v shows it; nil: no log (-quiet)
	ReadTimeout time.Duration // how long a client may take to send its head
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

// handle serves one connection: read one request head, answer, close.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(cmp.Or(s.ReadTimeout, 10*time.Second)))
	// Keep a copy of what the parser reads, so the log shows the head
	// exactly as it arrived, even when the parser refuses it. The parser's
	// limits bound it: the head, and what bufio read ahead of it. Without
	// a log (-quiet) there is no copy at all.
	var received bytes.Buffer
	var from io.Reader = conn
	if s.Log != nil {
		from = io.TeeReader(conn, &received)
	}
	br := bufio.NewReader(from)
	req, err := readRequest(br)
	if errors.Is(err, io.EOF) {
		return // connected and left without a request: nothing to answer
	}
	var response []byte
	if err != nil {
		response = errorResponse(err)
	} else {
		response = describe(req)
	}
	conn.Write(response)
	if s.Log != nil {
		head := received.Bytes()[:received.Len()-br.Buffered()] // not the body read ahead
		s.logExchange(conn.RemoteAddr(), head, response)
	}
	lingeringClose(conn)
}

// describe answers with what the parser read, one item per line, so you
// can see exactly how your request was understood.
func describe(req *Request) []byte {
	var body strings.Builder
	fmt.Fprintf(&body, "method: %s\ntarget: %s\nversion: %s\n", req.Method, req.Target, req.Proto)
	for _, f := range req.Fields {
		fmt.Fprintf(&body, "header %s: %s\n", f.Name, visible(f.Value))
	}
	return response(200, body.String())
}

// errorResponse turns a failed read into a full HTTP answer: a status
// line, headers and a one-line reason. Never a bare body, never silence.
func errorResponse(err error) []byte {
	var refused *statusError
	var netErr net.Error
	switch {
	case errors.As(err, &refused):
		return response(refused.Code, refused.Text+"\n")
	case errors.As(err, &netErr) && netErr.Timeout():
		return response(408, "the request head did not arrive in time\n")
	default: // the connection broke; the client will most likely never see this
		return response(400, err.Error()+"\n")
	}
}

// response writes a complete HTTP/1.1 response by hand. Every line ends
// in CRLF; Content-Length tells the client where the body ends, and
// Connection: close tells it we will hang up afterwards.
func response(code int, body string) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Connection: close\r\n"+
		"\r\n"+
		"%s", code, reasonPhrase(code), len(body), body)
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

// logExchange prints one exchange like curl -v: "> " for what the client
// sent, "< " for what we answered; the body goes out as-is.
func (s *Server) logExchange(client net.Addr, head, response []byte) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "* connection from %s\n", client)
	for _, line := range strings.SplitAfter(string(head), "\n") {
		if line != "" {
			fmt.Fprintf(&b, "> %s\n", visible(strings.TrimSuffix(line, "\r\n")))
		}
	}
	respHead, body, _ := strings.Cut(string(response), "\r\n\r\n")
	for _, line := range strings.Split(respHead, "\r\n") {
		fmt.Fprintf(&b, "< %s\n", line)
	}
	fmt.Fprintf(&b, "<\n%s", body)
	s.logMu.Lock()
	defer s.logMu.Unlock()
	cmp.Or(s.Log, io.Discard).Write(b.Bytes())
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
