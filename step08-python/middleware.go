package main

// middleware.go: a Middleware takes an App and returns an App that does
// something before, after or around it. PEP 3333 calls these "middleware
// components": to the server they are the application, to the application
// they are the server. Validator (validate.go) is one; here are two more.
// The access log is in accesslog.go.

import (
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
)

// Middleware wraps an App in another App.
type Middleware func(App) App

// Use wraps app in middleware, the first one outermost: Use(app, A, B) is
// A(B(app)), so a request passes A, then B, then reaches app.
func Use(app App, middleware ...Middleware) App {
	for i := len(middleware) - 1; i >= 0; i-- {
		app = middleware[i](app)
	}
	return app
}

// Recover turns a panic in the app (in its call or in its body) into a
// 500 error page, HTML or JSON by the client's Accept, and logs the panic
// with its stack to wsgi.errors. With debug, the page shows them too: for
// your own machine, never for the internet (a stack tells an attacker
// much about the program).
//
// This works only while no byte has gone out: Recover calls start_response
// again with excInfo, PEP 3333's way to replace the headers. Once they have
// gone out, start_response panics with excInfo and the server cuts the
// connection, as it would without Recover.
func Recover(debugMode bool) Middleware {
	return func(next App) App {
		return func(environ Environ, startResponse StartResponse) (body iter.Seq[[]byte]) {
			defer func() {
				if p := recover(); p != nil {
					body = failurePage(environ, startResponse, p, debugMode)
				}
			}()
			inner := next(environ, startResponse)
			return func(yield func([]byte) bool) {
				inYield := false
				defer func() {
					p := recover()
					switch {
					case p == nil:
					case inYield:
						// Raised by the server while it sent our chunk, not by
						// the app: not ours to handle. Go forbids a range
						// function to swallow its loop body's panic.
						panic(p)
					default:
						for chunk := range failurePage(environ, startResponse, p, debugMode) {
							yield(chunk)
						}
					}
				}()
				for chunk := range inner {
					inYield = true
					if !yield(chunk) {
						return
					}
					inYield = false
				}
			}
		}
	}
}

// failurePage logs a panic and answers the 500 page for it.
func failurePage(environ Environ, startResponse StartResponse, p any, debugMode bool) iter.Seq[[]byte] {
	stack := debug.Stack() // still the stack that panicked: deferred calls run before it unwinds
	fmt.Fprintf(environ["wsgi.errors"].(io.Writer), "panic: %v\n%s", p, stack)
	detail := ""
	if debugMode {
		detail = fmt.Sprintf("panic: %v\n\n%s", p, stack)
	}
	excInfo := fmt.Errorf("panic: %v", p)
	return errorPage(500, "The application failed.", detail)(environ, func(status string, headers []Header, _ error) Write {
		return startResponse(status, headers, excInfo)
	})
}

// RequestID gives every request an id, so that one request can be found
// in the logs of every program it passed through. A request that brings a
// plausible X-Request-Id (from a proxy in front) keeps it; others get one
// from newID. The id is in the environ as "request.id" and goes back to the
// client in the X-Request-Id response header.
func RequestID(newID func() string) Middleware {
	return func(next App) App {
		return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
			id, _ := environ["HTTP_X_REQUEST_ID"].(string)
			if !isRequestID(id) {
				id = newID()
			}
			environ["request.id"] = id // PEP 3333: an extension key has a dotted prefix
			return next(environ, func(status string, headers []Header, excInfo error) Write {
				// A copy with one more header: the app's slice is the app's.
				return startResponse(status, append(headers[:len(headers):len(headers)], Header{"X-Request-Id", id}), excInfo)
			})
		}
	}
}

// isRequestID accepts 1 to 64 letters, digits, '-', '_' and '.': enough for
// any id scheme, and nothing that could break a header or a log line.
func isRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// randomID is 16 hex digits. Ids only need to differ, not to be secret, so
// math/rand's fast generator will do.
func randomID() string {
	var b [16]byte
	return string(strconv.AppendUint(b[:0], rand.Uint64()|1<<63, 16)) // the top bit set: always 16 digits
}
