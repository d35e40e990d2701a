package main

// accesslog.go: the access log, one line per request, as middleware. It
// replaces the curl-style exchange log of steps 02-05, which copied every
// byte of every exchange: fine for learning, a quarter of the server's time
// under load. A line is built in one buffer and written in one call, to a
// logWriter (below) that never makes a request wait for its line.

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"sync"
	"time"
)

// AccessLog writes one line per request to w, when its body has ended:
//
//	127.0.0.1 GET "/hello/world" 200 22 61µs
//
// the client's address, the method, the path (quoted, so no byte of it can
// forge a line of its own), the status the client gets, the body bytes the
// app produced (the server sends none of them for HEAD, nor when it answers
// in the app's place) and how long the app took, from the call to the end
// of its body. Requests the server refuses before the app runs (a
// malformed head, say) never reach it and are not logged.
//
// The status is usually the app's, but not always: when the request body
// broke (cut short, too slow) before the headers went out, the server
// answers 400 or 408 itself instead of the app's response. Only the server
// knows, so it says: environ["server.response_status"] (response.go).
func AccessLog(w io.Writer) Middleware {
	var mu sync.Mutex // one line at a time, whole, from every connection's goroutine
	return func(next App) App {
		return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
			start := time.Now()
			status := "-" // until the app calls start_response
			var sent int
			body := next(environ, func(s string, headers []Header, excInfo error) Write {
				status = s
				write := startResponse(s, headers, excInfo)
				return func(data []byte) error {
					sent += len(data)
					return write(data)
				}
			})
			return func(yield func([]byte) bool) {
				defer func() { // also when the body panics: the line still tells what went out
					line := logLine(environ, statusSent(environ, status), sent, time.Since(start))
					mu.Lock()
					defer mu.Unlock()
					w.Write(line)
				}()
				for chunk := range body {
					sent += len(chunk)
					if !yield(chunk) {
						return
					}
				}
			}
		}
	}
}

// statusSent is the status the server says the client gets, or, from a
// server that does not say, the app's.
func statusSent(environ Environ, appStatus string) string {
	if sent, ok := environ["server.response_status"].(func() string); ok && sent() != "" {
		return sent()
	}
	return appStatus
}

// logLine formats one access-log line with appends into one buffer: no fmt.
func logLine(environ Environ, status string, sent int, took time.Duration) []byte {
	line := make([]byte, 0, 128)
	line = append(line, environ["REMOTE_ADDR"].(string)...)
	line = append(line, ' ')
	line = append(line, environ["REQUEST_METHOD"].(string)...)
	line = append(line, ' ')
	path := wireString(environ["SCRIPT_NAME"].(string) + environ["PATH_INFO"].(string))
	line = strconv.AppendQuote(line, path)
	line = append(line, ' ')
	line = append(line, status[:min(3, len(status))]...)
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(sent), 10)
	line = append(line, ' ')
	line = strconv.AppendInt(line, took.Microseconds(), 10)
	line = append(line, "µs\n"...)
	return line
}

// logBufferBytes bounds what a logWriter holds while its output is slow or
// stuck: at most this much waits, and as much again is being written,
// whatever the number of connections.
const logBufferBytes = 1 << 20

// logWriter is where the server's own output goes (run, main.go). Writing
// to stdout can block: when stdout is a pipe and the program that reads it
// (a log collector) stops reading, the pipe fills, and a write waits until
// it reads again, for ever if it never does. A request that waited there
// for its access-log line would hold its connection, and soon every
// connection would wait; the server would stop, for want of a log.
//
// So Write only copies the line into a bounded buffer and returns, and one
// goroutine writes what has gathered to out: all of it in one write, which
// also costs fewer system calls than one write per line. When the buffer
// is full, a line is dropped and counted, and once out takes bytes again
// the count goes out as a line of its own, as log shippers do: a gap that
// says it is one, rather than a server that stops.
type logWriter struct {
	out  io.Writer
	wake chan struct{} // holds a token while there is something to write

	mu      sync.Mutex
	waiting []byte          // written to l, not yet handed to out
	dropped int             // lines dropped since the count last went out
	writing bool            // the goroutine is in out.Write
	flushed []chan struct{} // Flush calls waiting for everything to be out
}

// newLogWriter starts the goroutine that writes to out.
func newLogWriter(out io.Writer) *logWriter {
	l := &logWriter{out: out, wake: make(chan struct{}, 1)}
	go l.writeOut()
	return l
}

// Write keeps p (one line: it is kept or dropped whole) to be written
// soon, or drops it if the buffer has no room for it. It never waits for
// out and never fails.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if len(l.waiting)+len(p) > logBufferBytes {
		l.dropped++
	} else {
		l.waiting = append(l.waiting, p...)
	}
	l.mu.Unlock()
	l.signal()
	return len(p), nil
}

// signal wakes the goroutine, unless a token already waits for it.
func (l *logWriter) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// writeOut is the one goroutine that calls out.Write, so lines never
// interleave. It takes everything waiting in one swap of two buffers:
// Write fills one while out.Write empties the other.
func (l *logWriter) writeOut() {
	var batch []byte
	for range l.wake {
		l.mu.Lock()
		batch, l.waiting = l.waiting, batch[:0]
		if l.dropped > 0 {
			batch = fmt.Appendf(batch, "* log: %d lines dropped: the output did not keep up\n", l.dropped)
			l.dropped = 0
		}
		l.writing = true
		l.mu.Unlock()
		if len(batch) > 0 {
			l.out.Write(batch) // an error has nowhere to go: this is where errors go
		}
		l.mu.Lock()
		l.writing = false
		if len(l.waiting) == 0 {
			for _, done := range l.flushed {
				close(done)
			}
			l.flushed = nil
		}
		l.mu.Unlock()
	}
}

// Flush waits until everything written before it is out, or until timeout
// has passed: at exit, lines still waiting get a moment, but a stuck out
// must not hold the process for ever.
func (l *logWriter) Flush(timeout time.Duration) {
	l.mu.Lock()
	if len(l.waiting) == 0 && l.dropped == 0 && !l.writing {
		l.mu.Unlock()
		return
	}
	done := make(chan struct{})
	l.flushed = append(l.flushed, done)
	l.mu.Unlock()
	l.signal()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}
