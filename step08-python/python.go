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
	"time"
)

// App serves one request through a free worker. Everything happens as the
// server ranges over the body, so a request that waits in the queue holds
// no worker, and the headers go out with the first chunk (PEP 3333).
func (p *Pool) App(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
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
		e.run()
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
	timedOut      atomic.Bool
	buf           []byte // for the body pieces that go to the worker
}

// run sends the request and follows the worker's frames to the end of the
// response. The worker goes back to the pool only if the exchange ended
// as the protocol says; else (it died, it was killed, it broke a rule, or
// the server panicked in the middle) it is killed and replaced.
func (e *exchange) run() {
	healthy := false
	defer func() { e.pool.release(e.w, healthy) }()
	// The timeout is for the whole request: an app stuck in a loop, or
	// waiting on something that never answers, loses its process.
	timer := time.AfterFunc(e.pool.cfg.timeout, func() {
		e.timedOut.Store(true)
		e.w.kill()
	})
	defer timer.Stop()
	input := e.environ["wsgi.input"].(io.Reader)
	errs := e.environ["wsgi.errors"].(io.Writer)
	id, _ := e.environ["request.id"].(string)
	var write Write

	err := writeFrame(e.w.in, kindEnviron, environPayload(e.environ))
	if err == nil {
		err = e.w.in.Flush()
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
			write = e.startResponse(call.status, call.headers, excInfo)
			e.started = true
		case kindWrite:
			switch {
			case write == nil:
				err = protocolErrorf("write() before start_response")
			case !e.aborted && write(f.payload) != nil:
				e.abort()
			}
		case kindData:
			if !e.aborted && !e.yield(f.payload) {
				e.abort() // the client is gone, or a HEAD needs no body
			}
		case kindLog: // wsgi.errors: a line of the server's log, with the request's id
			fmt.Fprintf(errs, "[%s] %s\n", id, f.payload)
		case kindFinished:
			healthy = true
			return
		case kindFailed:
			healthy = true // the app raised, the worker is fine
			fmt.Fprintf(errs, "[%s] the app raised:\n%s", id, f.payload)
			if !e.aborted {
				e.answer(500, "The application failed.")
			}
			return
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
		e.answer(504, fmt.Sprintf("The application took longer than %v.", e.pool.cfg.timeout))
		return
	}
	fmt.Fprintf(errs, "[%s] worker %d: %v (%v)\n", id, e.w.pid, err, e.w.cmd.ProcessState)
	e.answer(502, "The application's worker process died.")
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
	case got > 0:
		err = writeFrame(e.w.in, kindBody, e.buf[:got])
	case readErr == io.EOF || e.aborted:
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
