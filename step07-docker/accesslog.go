package main

// accesslog.go: the access log, one line per request, as middleware. It
// replaces the curl-style exchange log of steps 02-05, which copied every
// byte of every exchange: fine for learning, a quarter of the server's time
// under load. A line is built in one buffer and written in one call.

import (
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
