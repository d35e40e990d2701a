package main

// The slow-client experiment: one client sends half a request head and
// stops, as a client on a bad network (or an attacker, "slowloris") does;
// then a second client asks GET / the normal way. A server that serves
// one connection at a time makes the second wait for the first; a server
// with a goroutine, thread or event loop per connection does not.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// slowResult is how long the second client waited; blocked means it got
// no answer within the limit.
type slowResult struct {
	server  string
	wait    time.Duration
	blocked bool
	err     error
}

func (s slowResult) String() string {
	switch {
	case s.err != nil:
		return "error: " + s.err.Error()
	case s.blocked:
		return fmt.Sprintf("> %v (no answer)", s.wait)
	}
	return millisText(millis(s.wait)) + " ms"
}

// slowClient runs the experiment against s, waiting at most limit.
func slowClient(s *server, limit time.Duration) slowResult {
	host := s.host()
	staller, err := net.Dial("tcp", host)
	if err != nil {
		return slowResult{server: s.name, err: err}
	}
	defer staller.Close()
	// The request line and one field, but not the blank line that ends the head.
	if _, err := io.WriteString(staller, "GET / HTTP/1.1\r\nHost: "+host+"\r\n"); err != nil {
		return slowResult{server: s.name, err: err}
	}
	time.Sleep(200 * time.Millisecond) // time for the server to accept it and start reading
	start := time.Now()
	_, err = getRoot(host, start.Add(limit))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return slowResult{server: s.name, wait: limit, blocked: true}
	}
	return slowResult{server: s.name, wait: time.Since(start), err: err}
}

// getRoot sends GET / on a new connection as wrk does (a Host line and
// nothing more), reads the whole answer, and returns what it was; it
// gives up at deadline.
func getRoot(host string, deadline time.Time) (answer, error) {
	c, err := net.DialTimeout("tcp", host, time.Until(deadline))
	if err != nil {
		return answer{}, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		return answer{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode != 200 {
		return answer{}, fmt.Errorf("GET / answered %s", resp.Status)
	}
	first, _, _ := strings.Cut(string(body), "\n")
	return answer{bytes: len(body), firstLine: first}, nil
}

// slowClients runs the slow-client experiment on every running server,
// then on two that serve one client at a time: step02 with -one-at-a-time
// (as the Python tutorials' servers do) and gunicorn sync with a single
// worker (with more, each stalled client takes one worker).
func (w workspace) slowClients(servers []*server, contestants []contestant, limit time.Duration) []slowResult {
	fmt.Printf("slow client: half a request on one connection, then GET / on another (waiting at most %v)\n", limit)
	var results []slowResult
	try := func(s *server) {
		r := slowClient(s, limit)
		fmt.Printf("  %-30s %v\n", s.name, r)
		results = append(results, r)
	}
	for _, s := range servers {
		try(s)
	}
	for _, c := range contestants {
		var extra contestant
		switch c.name {
		case "step02-socket":
			extra = contestant{"step02-socket -one-at-a-time", slices.Concat(c.argv, []string{"-one-at-a-time"})}
		case "gunicorn sync":
			extra = contestant{"gunicorn sync, 1 worker", slices.Concat(c.argv, []string{"-w", "1"})}
		default:
			continue
		}
		s, err := w.start(extra)
		if err != nil {
			fmt.Printf("  skipping %s: %v\n", extra.name, err)
			continue
		}
		try(s)
		s.proc.stop()
	}
	return results
}
