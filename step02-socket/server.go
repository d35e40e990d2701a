package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxHeadBytes bounds how much of a request head we hold in memory: a
// client that never sends the blank line cannot make the server grow.
const maxHeadBytes = 16 << 10

// maxEmptyLines is how many empty lines before the request line are
// ignored (RFC 9112 §2.2 says a server SHOULD ignore at least one), as in
// step 03.
const maxEmptyLines = 4

// Server answers every HTTP request with a greeting, over raw TCP.
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
	head, err := readHead(bufio.NewReader(conn))
	if errors.Is(err, io.EOF) && len(head) == 0 {
		return // connected and left without a word: nothing to answer
	}
	response := greeting()
	if err != nil {
		response = errorResponse(err)
	}
	conn.Write(response)
	if s.Log != nil { // -quiet: not even the formatting is done
		s.logExchange(conn.RemoteAddr(), head, response)
	}
	lingeringClose(conn)
}

// readHead reads up to and including the blank line that ends the head,
// however the bytes arrive: one packet, or one byte at a time. A single
// fixed-size read (recv(1024)) would cut long requests and split ones.
func readHead(br *bufio.Reader) ([]byte, error) {
	var head []byte
	start := 0 // where the request line starts, after any empty lines
	for {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		if len(head) > maxHeadBytes {
			return head, errTooLarge
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // a long line: keep reading it
		}
		if errors.Is(err, io.EOF) && len(head) == start {
			return nil, io.EOF // nothing, or only empty lines: no request to answer
		}
		if err != nil {
			return head, err
		}
		if !bytes.Equal(line, []byte("\r\n")) {
			continue
		}
		if len(head) > start+2 {
			return head, checkRequestLine(head[start:]) // the blank line after the head
		}
		// An empty line before the request line, left over after an
		// earlier body, say: ignore it, but not forever.
		start += 2
		if start > 2*maxEmptyLines {
			return head, fmt.Errorf("more than %d empty lines before the request line", maxEmptyLines)
		}
	}
}

var errTooLarge = errors.New("request head is larger than 16 KiB")

// checkRequestLine does the least a server must: the first line has to
// look like "METHOD TARGET HTTP/x.y". Step 03 parses it properly.
func checkRequestLine(head []byte) error {
	line, _, _ := strings.Cut(string(head), "\r\n")
	parts := strings.Split(line, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !strings.HasPrefix(parts[2], "HTTP/") {
		return errors.New("request line must be METHOD SP TARGET SP HTTP-version")
	}
	return nil
}

func greeting() []byte {
	return response("200 OK", "Hello, world!\n")
}

// errorResponse turns a failed read into a full HTTP answer: a status
// line, headers and a one-line reason. Never a bare body, never silence.
func errorResponse(err error) []byte {
	var netErr net.Error
	switch {
	case errors.Is(err, errTooLarge):
		return response("431 Request Header Fields Too Large", err.Error()+"\n")
	case errors.As(err, &netErr) && netErr.Timeout():
		return response("408 Request Timeout", "the request head did not arrive in time\n")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return response("400 Bad Request", "the connection ended before the blank line that ends a request head\n")
	default:
		return response("400 Bad Request", err.Error()+"\n")
	}
}

// response writes a complete HTTP/1.1 response by hand. Every line ends
// in CRLF; Content-Length tells the client where the body ends, and
// Connection: close tells it we will hang up afterwards.
func response(status, body string) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 %s\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Connection: close\r\n"+
		"\r\n"+
		"%s", status, len(body), body)
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
			fmt.Fprintf(&b, "> %s\n", visible(line))
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

// visible drops a line's CRLF, as curl -v does, but shows any other
// control byte (a bare LF, a stray CR) escaped so you can see it.
func visible(line string) string {
	line = strings.TrimSuffix(line, "\r\n")
	quoted := strconv.Quote(line)
	if quoted[1:len(quoted)-1] == line {
		return line
	}
	return quoted
}
