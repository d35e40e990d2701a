package main

// A cap on concurrent connections. Each connection can hold a bounded
// amount of memory (the README adds it up), so a cap on connections
// bounds what the server holds for them: cap × worst case (the bodies
// the apps read have a budget of their own, memory.go). Without one, a
// burst of clients (or one client opening sockets in a loop) can take the
// process past its container's memory limit, and the kernel kills it.
//
// The cap counts every connection, but not every connection is working.
// One that only waits for a request (kept alive after its last answer, or
// new and silent) costs a slot and does nothing with it; 256 of those would
// lock everyone else out until their idle timeout. So, as nginx does when
// it runs out of connections, a new connection that finds no slot free
// closes the one that has waited longest for a request, and takes its slot
// (RFC 9112 §9.5 lets a server close an idle connection at any time; its
// client opens a new one). Only when every connection has a request in
// progress is the new one refused.
//
// What a refused client meets is a choice. Not accepting leaves it in the
// kernel's backlog: its connect succeeds, then it hears nothing until a
// slot frees up or it gives up, and it cannot tell a full server from a
// dead one. This server accepts it and answers at once with
// 503 Service Unavailable, Retry-After: 1 and Connection: close, which a
// client, a load balancer and a person at a terminal can all understand.
//
// The health probe must get through even then: a server that is merely
// busy is not dead, and an orchestrator restarts a container whose probe
// fails. So a few slots beyond the cap are kept for it (probeReserve).

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"time"
)

// probeReserve is how many connections beyond the cap the health probe may
// use when every slot is busy. Only a connection from loopback gets one (in
// a container only the container's own processes reach its loopback, and
// the HEALTHCHECK probe is one of them), and only for GET /healthz: a
// proxy on the same host connects from loopback too, and must not take the
// probe's way in for its own requests (refusedOnReserve).
const probeReserve = 2

// limitConns returns a listener that hands out at most max connections at
// a time, plus probeReserve for the health probe; 0 or less means no cap.
// With no slot free, it calls evict, which closes the connection that has
// waited longest for a request and reports whether there was one
// (Server.evictIdle); the closed connection's slot is then free. The
// refusals are capped too, at max at a time: past that, a connection is
// closed without a word.
func limitConns(ln net.Listener, max int, evict func() bool) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, evict: evict,
		slots:    make(chan struct{}, max),
		reserve:  make(chan struct{}, probeReserve),
		refusing: make(chan struct{}, max)}
}

type limitListener struct {
	net.Listener
	max      int
	evict    func() bool   // close the longest-waiting idle connection, if any
	slots    chan struct{} // one token per connection being served
	reserve  chan struct{} // one token per connection on the probe's reserve
	refusing chan struct{} // one token per 503 being sent
}

// Accept returns the next connection there is a slot for. A connection
// without one gets its 503 from a goroutine of its own, so the accept
// loop never waits on a slow client.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.admit(conn); c != nil {
			return c, nil
		}
		select {
		case l.refusing <- struct{}{}:
			go func() {
				turnAway(conn, l.max)
				<-l.refusing
			}()
		default:
			conn.Close()
		}
	}
}

// admit gives conn a slot, or returns nil. An evicted connection's Close
// gives its slot back before evict returns, so the next try finds it; an
// evicted one may have held a reserve slot, hence the loop.
func (l *limitListener) admit(conn net.Conn) net.Conn {
	for {
		if take(l.slots) {
			return &slotConn{Conn: conn, free: func() { <-l.slots }}
		}
		if l.evict == nil || !l.evict() {
			break // every connection has a request in progress
		}
	}
	if fromLoopback(conn) && take(l.reserve) {
		return &slotConn{Conn: conn, free: func() { <-l.reserve }, onlyProbe: true, max: l.max}
	}
	return nil
}

// take takes a token from slots if one is free, without waiting.
func take(slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func fromLoopback(conn net.Conn) bool {
	tcp, ok := conn.RemoteAddr().(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// refusedOnReserve returns the 503 for a request on a reserve connection
// that is not the probe's GET /healthz, and nil for every other request:
// the reserve lets the probe in, nothing else.
func refusedOnReserve(conn net.Conn, req *Request) []byte {
	c, ok := conn.(*slotConn)
	if !ok || !c.onlyProbe || req.Method == "GET" && req.Target == "/healthz" {
		return nil
	}
	refusal := overCapResponse(c.max, time.Now())
	if req.Method == "HEAD" {
		head, _, _ := bytes.Cut(refusal, []byte("\r\n\r\n"))
		return append(head, "\r\n\r\n"...) // the same head, no body (RFC 9110 §9.3.2)
	}
	return refusal
}

// turnAway answers a connection beyond the cap without reading its request.
// The lingering close reads what the client sends for up to a second, so
// its request does not turn our close into a reset that loses the 503.
func turnAway(conn net.Conn, max int) {
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write(overCapResponse(max, time.Now()))
	lingeringClose(conn)
}

// overCapResponse is the 503 a connection beyond the cap gets.
func overCapResponse(max int, now time.Time) []byte {
	return unavailableResponse(fmt.Sprintf("the server already has as many connections as it takes (%d); try again in a second\n", max), false, now)
}

// unavailableResponse is a 503 that asks the client to come back in a
// second, with text as its body (none for a HEAD). Like every answer the
// server makes itself (step 05), it carries Date and Server.
func unavailableResponse(text string, isHead bool, now time.Time) []byte {
	head := fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\n"+
		"Date: %s\r\n"+
		"Server: %s\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Retry-After: 1\r\n"+
		"Connection: close\r\n"+
		"\r\n", now.UTC().Format(imfFixdate), serverSoftware, len(text))
	if isHead {
		return head
	}
	return append(head, text...)
}

// slotConn gives its slot back when it is closed, once however often
// Close is called.
type slotConn struct {
	net.Conn
	once      sync.Once
	free      func()
	onlyProbe bool // on the probe's reserve: GET /healthz only
	max       int  // the cap, for the 503 (onlyProbe)
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// CloseWrite lets lingeringClose half-close the connection under the wrapper.
func (c *slotConn) CloseWrite() error {
	if tcp, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return tcp.CloseWrite()
	}
	return nil
}
