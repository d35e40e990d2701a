package main

// Memory for idle connections: a server holding many kept-alive
// connections that each did one GET / and now wait for a next request
// that does not come (browsers keep connections open like this). Each
// costs the server a goroutine (its stack), buffers and a socket; the
// process's resident memory (VmRSS) shows the total.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
)

// idleResult is a server's resident memory before and with n idle
// connections.
type idleResult struct {
	server        string
	conns         int
	before, after int64 // bytes
}

// raiseFileLimit lets this process (and the servers it starts, which
// inherit the limit) open as many sockets as the hard limit allows, and
// returns that number.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	return lim.Max, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// idleConnections starts c, opens n connections that each make one
// GET / and stay open, and reads the server's VmRSS; everything is closed
// and stopped before it returns. It gives up after limit.
func (w workspace) idleConnections(c contestant, n int, limit time.Duration) (idleResult, error) {
	s, err := w.start(c)
	if err != nil {
		return idleResult{}, err
	}
	defer s.proc.stop()
	res := idleResult{server: c.name, conns: n}
	if res.before, err = rss(s.proc.pid()); err != nil {
		return res, err
	}
	conns, err := openIdle(s, n, time.Now().Add(limit))
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if err != nil {
		return res, err
	}
	time.Sleep(time.Second) // the last goroutines settle into their wait
	res.after, err = rss(s.proc.pid())
	return res, err
}

// openIdle opens n connections, 64 at a time, each with one GET / and
// its answer read; it returns the ones it opened.
func openIdle(s *server, n int, deadline time.Time) ([]net.Conn, error) {
	host := s.host()
	var (
		mu       sync.Mutex
		conns    []net.Conn
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan struct{})
	for range 64 {
		wg.Go(func() {
			for range jobs {
				c, err := oneGet(host, deadline)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if c != nil {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		})
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return conns, fmt.Errorf("%d of %d connections: %v", len(conns), n, firstErr)
	}
	return conns, nil
}

// oneGet dials, asks GET / with keep-alive and reads the answer, leaving
// the connection open.
func oneGet(host string, deadline time.Time) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", host, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	c.SetDeadline(deadline)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 1024), nil)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err == nil && (resp.StatusCode != 200 || resp.Close) {
		err = fmt.Errorf("GET / answered %s, close=%v; want 200 and keep-alive", resp.Status, resp.Close)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// idleAll measures idle connections on step07 (its cap on connections
// lifted and its idle timeout made longer than the experiment) and on
// the Go yardsticks.
func (w workspace) idleAll(contestants []contestant, n int) ([]idleResult, error) {
	fmt.Printf("memory: %d idle kept-alive connections\n", n)
	var results []idleResult
	for _, c := range contestants {
		switch c.name {
		case "step07-docker":
			c.argv = slices.Concat(c.argv, []string{"-max-conns", "0", "-idle-timeout", "1h"})
		case "net/http", "fasthttp":
		default:
			continue
		}
		r, err := w.idleConnections(c, n, time.Minute)
		if err != nil {
			return nil, fmt.Errorf("idle connections, %s: %v", c.name, err)
		}
		fmt.Printf("  %-15s VmRSS %s before, %s with %d connections\n", c.name, mib(r.before), mib(r.after), n)
		results = append(results, r)
	}
	return results, nil
}
