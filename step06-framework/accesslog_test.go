package main

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// A body cut short is the client's error, and the server answers it
// itself (400 when the client stopped, 408 when it stalled past the read
// timeout), whatever the app made of half a body. The access log says what
// the client got, and wsgi.errors stays quiet: no server fault happened.
func TestAccessLogShowsTheStatusTheClientGot(t *testing.T) {
	tests := []struct {
		name        string
		path        string        // /echo: the framework's handler; /environ: a raw WSGI app that answers 200 whatever it read
		readTimeout time.Duration // the only deadline that may fire is the one under test
		halfClose   bool          // the client stops sending: the body is cut short
		want        string
	}{
		{"/echo, the client stops sending mid-body", "/echo", time.Hour, true, "400 Bad Request"},
		{"/echo, the client stalls mid-body past the read timeout", "/echo", 200 * time.Millisecond, false, "408 Request Timeout"},
		{"/environ, the client stops sending mid-body", "/environ", time.Hour, true, "400 Bad Request"},
		{"/environ, the client stalls mid-body past the read timeout", "/environ", 200 * time.Millisecond, false, "408 Request Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			post := "POST " + tt.path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n[1,"
			var log, errs lockedBuffer
			app := withMiddleware(routes().App, &log, false, fixedID)
			addr := transcript.Start(t, (&Server{App: app, Errors: &errs, ReadTimeout: tt.readTimeout, IdleTimeout: time.Hour, WriteTimeout: time.Hour}).Serve)
			conn := transcript.Dial(t, addr)
			io.WriteString(conn, post)
			if tt.halfClose {
				conn.(*net.TCPConn).CloseWrite()
			}
			all, _ := io.ReadAll(conn) // the server answers, then closes
			if !strings.HasPrefix(string(all), "HTTP/1.1 "+tt.want+"\r\n") {
				t.Fatalf("the server answered %q, want %s", all, tt.want)
			}
			code := tt.want[:3]
			pattern := regexp.MustCompile(`^127\.0\.0\.1 POST "` + tt.path + `" ` + code + ` \d+ \d+µs\n$`)
			// The line is written when the app's body ends, before the server sends the answer.
			if got := log.String(); !pattern.MatchString(got) {
				t.Errorf("the client got %s, but the access log says %q", code, got)
			}
			if errs.String() != "" {
				t.Errorf("wsgi.errors got %q for the client's own broken body, want nothing", errs.String())
			}
		})
	}
}
