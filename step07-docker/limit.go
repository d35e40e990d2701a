package main

// A cap on concurrent connections. Each connection can hold a bounded
// amount of memory (the README adds it up), so a cap on connections
// bounds what the server holds for them: cap × worst case (the bodies
// the apps read have a budget of their own, memory.go). Without one, a
// burst of clients (or one client opening sockets in a loop) can take the
// process past its container's memory limit, and the kernel kills it.
//
// What a client beyond the cap meets is a choice. Not accepting leaves it
// in the kernel's backlog: its connect succeeds, then it hears nothing
// until a slot frees up or it gives up, and it cannot tell a full server
// from a dead one. This server accepts it and answers at once with
// 503 Service Unavailable, Retry-After: 1 and Connection: close, which a
// client, a load balancer and a person at a terminal can all understand.

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// limitConns returns a listener that hands out at most max connections at
// a time; 0 or less means no cap. The refusals are capped too, at max at a
// time: past that, a connection is closed without a word.
func limitConns(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, slots: make(chan struct{}, max), refusing: make(chan struct{}, max)}
}

type limitListener struct {
	net.Listener
	max      int
	slots    chan struct{} // one token per connection being served
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
		select {
		case l.slots <- struct{}{}:
			return &slotConn{Conn: conn, free: func() { <-l.slots }}, nil
		default:
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
	once sync.Once
	free func()
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
