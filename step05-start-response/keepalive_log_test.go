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

// The live log shows each exchange of a kept-alive connection once: the
// copies of what was read and sent start afresh with every request, and a
// pipelined request's head, read ahead with the one before it, still shows
// under its own exchange.
func TestKeepAliveLogShowsEachExchangeOnce(t *testing.T) {
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
			s := &Server{App: demo, Log: log, Errors: io.Discard, ReadTimeout: time.Hour}
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

			// The connection is announced once; its second request is numbered.
			client := conn.LocalAddr().String()
			announce := []string{"connection from " + client + "\n", "request 2 on the connection from " + client + "\n"}
			exchanges := regexp.MustCompile(`(?m)^\* `).Split(log.String(), -1)[1:]
			if len(exchanges) != 2 {
				t.Fatalf("log has %d exchanges, want 2:\n%s", len(exchanges), log.String())
			}
			for i, want := range announce {
				if !strings.HasPrefix(exchanges[i], want) {
					t.Errorf("exchange %d starts %q, want %q", i+1, strings.SplitAfter(exchanges[i], "\n")[0], want)
				}
			}
			for i, want := range []string{"> GET /stream HTTP/1.1\n", "> GET /sized HTTP/1.1\n"} {
				ex := exchanges[i]
				requests, responses := strings.Count(ex, "\n> GET "), strings.Count(ex, "HTTP/1.1 200 OK")
				if !strings.Contains(ex, want) || requests != 1 || responses != 1 {
					t.Errorf("exchange %d shows %d request lines and %d status lines; want one each, %q:\n%s",
						i+1, requests, responses, want, ex)
				}
			}
		})
	}
}
