package main

// Graceful shutdown. `docker stop` (and Kubernetes, and systemd) sends
// SIGTERM and waits, 10 s by default, before it sends SIGKILL. A server
// that uses that time well stops accepting, lets the requests it is
// answering finish, closes the connections that are only waiting for a
// next request, and exits 0. A server that ignores SIGTERM is killed
// mid-response 10 s later, and `docker stop` takes all of those 10 s.
//
// Go ignores no signal by default, but a process that is PID 1 in a
// container gets no default action from the kernel: an unhandled SIGTERM
// is simply dropped. So the signal must be handled in code (main.go asks
// for it with signal.NotifyContext), or the image must start a small init
// (docker run --init) that forwards it.

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// connState is where a connection is in its life, as far as a shutdown
// cares: waiting for a request may be cut; answering one may not.
type connState int

const (
	untracked connState = iota // not tracked (yet)
	idle                       // no byte of the next request has arrived yet
	busy                       // a request is being read or answered
	cut                        // Shutdown or the cap closed it while it was waiting
)

// connTracker knows every connection the server holds, what it is doing
// and, for one that waits, since when: so that Shutdown can close the
// waiting ones and wait for the rest, and the cap (limit.go) can close the
// one that has waited longest to make room for a new one (evictIdle).
type connTracker struct {
	mu       sync.Mutex
	conns    map[net.Conn]tracked
	draining bool          // Shutdown has begun
	idle     chan struct{} // closed when draining and no connection is left
}

// tracked is one connection's entry in the tracker.
type tracked struct {
	state connState
	since time.Time // when it began to wait (state idle)
}

// forget removes a connection that handle has finished with.
func (s *Server) forget(conn net.Conn) {
	t := &s.conns
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, conn)
	t.signalIfEmpty()
}

// waitingFor marks conn as waiting for its next request. It reports false
// once shutdown has begun: handle then closes the connection.
func (s *Server) waitingFor(conn net.Conn) bool {
	return s.setState(conn, idle)
}

// answering marks conn as busy with a request whose first byte has come.
// It reports false when shutdown (or the cap) closed the connection in
// the meantime.
func (s *Server) answering(conn net.Conn) bool {
	return s.setState(conn, busy)
}

func (s *Server) setState(conn net.Conn, state connState) bool {
	t := &s.conns
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conns[conn].state == cut || t.draining && state == idle {
		return false
	}
	if t.conns == nil {
		t.conns = map[net.Conn]tracked{}
	}
	t.conns[conn] = tracked{state, time.Now()}
	return true
}

// evictIdle closes the connection that has waited longest for a request
// and reports whether there was one; a connection with a request in
// progress is never chosen. The cap (limitConns) calls it when a new
// connection finds no slot free: the Close gives the slot back at once.
// A look at every connection is cheap next to accepting one: there are
// at most cap + probeReserve of them.
func (s *Server) evictIdle() bool {
	t := &s.conns
	t.mu.Lock()
	defer t.mu.Unlock()
	var oldest net.Conn
	for conn, c := range t.conns {
		if c.state == idle && (oldest == nil || c.since.Before(t.conns[oldest].since)) {
			oldest = conn
		}
	}
	if oldest == nil {
		return false
	}
	t.conns[oldest] = tracked{state: cut} // so that answering refuses it, if its first byte is just in
	oldest.Close()                        // its handle sees the error, and forgets it
	return true
}

// ShuttingDown reports whether Shutdown has begun. A response whose head
// goes out after that says "Connection: close", and /healthz answers 503,
// so a load balancer stops sending new clients here.
func (s *Server) ShuttingDown() bool {
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	return s.conns.draining
}

// Shutdown closes every connection that waits for a request and waits
// for the others to finish their response, until ctx ends; then it cuts
// those too and returns ctx's error. Close the listener first, so that no
// new connection arrives.
func (s *Server) Shutdown(ctx context.Context) error {
	t := &s.conns
	t.mu.Lock()
	t.draining = true
	t.idle = make(chan struct{})
	for conn, c := range t.conns {
		if c.state == idle {
			t.conns[conn] = tracked{state: cut}
			conn.Close() // its handle sees the error, and forgets it
		}
	}
	t.signalIfEmpty()
	idle := t.idle
	t.mu.Unlock()

	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		defer t.mu.Unlock()
		cutShort := false
		for conn, c := range t.conns {
			if c.state != cut { // the waiting ones were closed above
				conn.Close() // past the deadline: cut the response
				cutShort = true
			}
		}
		if !cutShort {
			return nil // nothing was answering (-shutdown-timeout 0 with idle clients)
		}
		return ctx.Err()
	}
}

func (t *connTracker) signalIfEmpty() {
	if t.draining && len(t.conns) == 0 {
		select {
		case <-t.idle:
		default:
			close(t.idle)
		}
	}
}

// serveUntil runs serve on ln until ctx ends (SIGTERM, SIGINT, or a
// test's cancel), then shuts the server down gracefully, giving the
// requests in flight up to timeout. It returns serve's error, or nil.
// Its lines go to log, which must never block (run's logWriter): a stuck
// stdout must not keep a SIGTERM from ending the process.
func serveUntil(ctx context.Context, server *Server, serve func(net.Listener) error, ln net.Listener, timeout time.Duration, log io.Writer) error {
	served := make(chan error, 1)
	go func() { served <- serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(log, "* shutting down: no new connections; requests in flight get up to %v\n", timeout)
	ln.Close() // the kernel now refuses new connections
	deadline, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := server.Shutdown(deadline); err != nil {
		fmt.Fprintf(log, "* shutdown: %v; the remaining connections were cut\n", err)
	}
	select {
	case <-served: // the accept loop has seen the closed listener
	case <-time.After(time.Second): // -one-at-a-time, stuck in an app that never returns
	}
	fmt.Fprintln(log, "* stopped")
	return nil
}
