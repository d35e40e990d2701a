package main

// python.go: the App that runs a request in a Python worker. To the
// server it is an App like any other; to the worker it is the other end
// of the frames (frame.go): the environ goes over, then the worker's
// frames come back and become this App's start_response calls, write()
// calls and chunks, until the app is done.

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"sync/atomic"
	"syscall"
	"time"
)

// App serves one request through a free worker. Everything happens as the
// server ranges over the body, so a request that waits in the queue holds
// no worker, and the headers go out with the first chunk (PEP 3333).
func (p *Pool) App(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for {
			w, err := p.acquire()
			if err != nil {
				busy := errorPage(503, "Every worker is busy ("+err.Error()+"); try again in a second.", "").WithHeader("Retry-After", "1")
				for chunk := range busy(environ, startResponse) {
					if !yield(chunk) {
						return
					}
				}
				return
			}
			e := &exchange{pool: p, w: w, environ: environ, startResponse: startResponse, yield: yield}
			if e.run() {
				return
			}
			// The worker had died while it waited, and the pool had not
			// noticed yet: the request never reached it, so nothing is
			// lost by giving it to the next one.
		}
	}
}

// exchange is one request's conversation with one worker.
type exchange struct {
	pool          *Pool
	w             *worker
	environ       Environ
	startResponse StartResponse
	yield         func([]byte) bool
	started       bool // start_response has been called
	aborted       bool // the client is gone: the worker's frames are read and dropped
	panicked      any  // what a call into the server panicked with (see call)
	timedOut      atomic.Bool
	buf           []byte // for the body pieces that go to the worker
}

// run sends the request and follows the worker's frames to the end of the
// response. The worker goes back to the pool only if the exchange ended
// as the protocol says; else (it died, it was killed, it broke a rule, or
// the server panicked in the middle) it is killed and replaced. run
// reports false, having answered nothing, if the worker was already dead:
// its stdin was closed before it could read a byte of the request.
func (e *exchange) run() (delivered bool) {
	healthy := false
	// The timeout is for the whole request: an app stuck in a loop, or
	// waiting on something that never answers, loses its process.
	timer := time.AfterFunc(e.pool.cfg.timeout, func() {
		e.timedOut.Store(true)
		e.w.kill()
	})
	defer func() {
		// A timeout that fired has killed the worker, whatever its last
		// frame said: it must not go back to the pool.
		if !timer.Stop() {
			healthy = false
		}
		e.pool.release(e.w, healthy)
	}()
	input := e.environ["wsgi.input"].(io.Reader)
	errs := e.environ["wsgi.errors"].(io.Writer)
	id, _ := e.environ["request.id"].(string)
	var write Write

	e.w.environ = environPayload(e.w.environ[:0], e.environ)
	err := writeFrame(e.w.in, kindEnviron, e.w.environ)
	if err == nil {
		err = e.w.in.Flush()
	}
	if errors.Is(err, syscall.EPIPE) {
		return false
	}
	for err == nil {
		var f frame
		if f, err = readFrame(e.w.out); err != nil {
			break
		}
		switch f.kind {
		case kindRead: // wsgi.input.read: answer with what the client has sent
			err = e.sendBody(f.payload, input)
		case kindStart:
			var call startCall
			if call, err = parseStart(f.payload); err != nil || e.aborted {
				break
			}
			var excInfo error
			if call.replace {
				excInfo = errors.New("the app called start_response with exc_info")
			}
			e.call(func() {
				write = e.startResponse(call.status, call.headers, excInfo)
				e.started = true
			})
		case kindWrite:
			switch {
			case e.aborted:
			case write == nil:
				err = protocolErrorf("write() before start_response")
			default:
				e.call(func() {
					if write(f.payload) != nil {
						e.abort() // the client is gone
					}
				})
			}
		case kindData:
			if !e.aborted {
				e.call(func() {
					if !e.yield(f.payload) {
						e.abort() // the client is gone, or a HEAD needs no body
					}
				})
			}
		case kindLog: // wsgi.errors: a line of the server's log, with the request's id
			fmt.Fprintf(errs, "[%s] %s\n", id, f.payload)
		case kindFinished:
			healthy = true
			e.repanic()
			return true
		case kindFailed:
			healthy = true // the app raised, the worker is fine
			fmt.Fprintf(errs, "[%s] the app raised:\n%s", id, f.payload)
			e.repanic()
			if !e.aborted {
				e.answer(500, "The application failed.")
			}
			return true
		default:
			err = protocolErrorf("a %q frame in the middle of a response", f.kind)
		}
	}
	// The worker is gone (it died, or the timeout killed it) or broke the
	// protocol: kill it for sure, and say what happened.
	e.w.kill()
	<-e.w.exited
	if e.timedOut.Load() {
		fmt.Fprintf(errs, "[%s] worker %d killed: the request took longer than -worker-timeout %v\n", id, e.w.pid, e.pool.cfg.timeout)
		e.repanic()
		e.answer(504, fmt.Sprintf("The application took longer than %v.", e.pool.cfg.timeout))
		return true
	}
	fmt.Fprintf(errs, "[%s] worker %d: %v (%v)\n", id, e.w.pid, err, e.w.cmd.ProcessState)
	e.repanic()
	e.answer(502, "The application's worker process died.")
	return true
}

// call makes one call into the server: start_response, write() or a
// chunk. The server panics where a Go app would get an exception
// (start_response refuses a hop-by-hop header or a bad status, say). Such
// a panic is kept, not let through at once: the worker is told to stop, as
// when the client leaves, and its frames are read to the end of its
// response, so that it can serve the next request instead of being killed.
// Then repanic lets the panic go on up, and the server answers it as it
// answers a Go app's: 500, or a cut connection once the headers are out.
func (e *exchange) call(f func()) {
	defer func() {
		if p := recover(); p != nil {
			e.panicked = p
			e.abort()
		}
	}()
	f()
}

// repanic raises the panic call kept, if any. (A range function must not
// swallow its loop body's panic, so it must go on up in any case.)
func (e *exchange) repanic() {
	if e.panicked != nil {
		panic(e.panicked)
	}
}

// sendBody answers a read frame: up to n bytes of the body, an empty body
// frame at its end, or a body error frame with the reason it broke.
func (e *exchange) sendBody(payload []byte, input io.Reader) error {
	n, err := parseRead(payload)
	if err != nil {
		return err
	}
	if cap(e.buf) < n {
		e.buf = make([]byte, bodyPiece)
	}
	var got int
	var readErr error
	for got == 0 && readErr == nil && !e.aborted {
		got, readErr = input.Read(e.buf[:n])
	}
	switch {
	case e.aborted:
		// The worker may have read our abort frame as the answer to this
		// read already, or may read it next: either way it gets one more,
		// so that it never finds a body frame it did not ask for. An abort
		// it did not ask for is one it ignores.
		err = writeFrame(e.w.in, kindAbort, nil)
	case got > 0:
		err = writeFrame(e.w.in, kindBody, e.buf[:got])
	case readErr == io.EOF:
		err = writeFrame(e.w.in, kindBody, nil)
	default:
		err = writeFrame(e.w.in, kindBodyError, []byte(readErr.Error()))
	}
	if err == nil {
		err = e.w.in.Flush()
	}
	return err
}

// abort tells the worker the client is gone; its app stops at its next
// chunk, its iterable is closed, and it finishes as usual.
func (e *exchange) abort() {
	e.aborted = true
	if writeFrame(e.w.in, kindAbort, nil) == nil {
		e.w.in.Flush()
	}
}

// answer sends the server's own error page in place of the app's
// response. If the app had called start_response, the page replaces its
// headers (exc_info); if they have gone out, startResponse panics and the
// server cuts the connection: the client sees a short body, not a lie.
func (e *exchange) answer(code int, message string) {
	startResponse := e.startResponse
	if e.started {
		startResponse = func(status string, headers []Header, _ error) Write {
			return e.startResponse(status, headers, fmt.Errorf("the worker failed after start_response: %d", code))
		}
	}
	for chunk := range errorPage(code, message, "")(e.environ, startResponse) {
		if !e.yield(chunk) {
			return
		}
	}
}
