package main

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// The access log has one line per request of a kept-alive connection, and
// a pipelined request, read ahead with the one before it, still gets its
// own line, after the first one's.
func TestKeepAliveLogShowsEachRequestOnce(t *testing.T) {
	const (
		first  = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
		second = "GET /sized HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	)
	for _, pipelined := range []bool{false, true} {
		name := "one after the other"
		if pipelined {
			name = "pipelined"
		}
		t.Run(name, func(t *testing.T) {
			log := &lockedBuffer{}
			s := &Server{App: withMiddleware(routes().App, log, false, fixedID), Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
			// Serve one connection by hand, so the test knows when its log is complete.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				if conn, err := ln.Accept(); err == nil {
					s.handle(conn)
				}
			}()
			conn := transcript.Dial(t, ln.Addr().String())
			br := bufio.NewReader(conn)
			if pipelined {
				io.WriteString(conn, first+second)
			} else {
				io.WriteString(conn, first)
			}
			if status, _, err := readResponse(br, "GET"); err != nil || status != "200 OK" {
				t.Fatalf("first response: %q, %v", status, err)
			}
			if !pipelined {
				io.WriteString(conn, second)
			}
			if status, _, err := readResponse(br, "GET"); err != nil || status != "200 OK" {
				t.Fatalf("second response: %q, %v", status, err)
			}
			conn.(*net.TCPConn).CloseWrite() // nothing more: the server's lingering close ends at once
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the server did not close the connection after Connection: close")
			}

			lines := strings.SplitAfter(log.String(), "\n")
			want := []*regexp.Regexp{
				regexp.MustCompile(`^127\.0\.0\.1 GET "/stream" 200 14 \d+µs\n$`),
				regexp.MustCompile(`^127\.0\.0\.1 GET "/sized" 200 \d+ \d+µs\n$`),
			}
			if len(lines) != len(want)+1 || lines[len(want)] != "" {
				t.Fatalf("access log has %d lines, want 2:\n%s", len(lines)-1, log.String())
			}
			for i, re := range want {
				if !re.MatchString(lines[i]) {
					t.Errorf("line %d = %q, want it to match %s", i+1, lines[i], re)
				}
			}
		})
	}
}
