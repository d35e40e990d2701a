package main

import (
	"bufio"
	"bytes"
	"io"
	"iter"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// sendAndHalfClose sends request, closes the client's writing side (as
// `printf … | nc` does) and reads the answer until the server closes.
func sendAndHalfClose(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	conn := transcript.Dial(t, addr)
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	all, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the answer: %v after %q; want the whole answer, then the close", err, all)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all)), nil)
	if err != nil {
		t.Fatalf("%v in %q", err, all)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v in %q", err, all)
	}
	return resp, string(body)
}

// A server that closes a socket with unread bytes in it makes the kernel
// send a reset instead of a FIN, and the client's next read fails with
// "connection reset" instead of ending cleanly. lingeringClose reads what
// is left before closing, so the answer arrives whole and ends with the close.
func TestResponseSurvivesAnUnreadBody(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	// Refused at its head (no Host), so the server never reads the body.
	// 16 KiB is more than one read of the head takes, and all of it is on
	// its way before the server answers.
	unread := strings.Repeat("x", 16<<10)
	resp, body := sendAndHalfClose(t, addr, "POST / HTTP/1.1\r\nContent-Length: 16384\r\n\r\n"+unread)
	if resp.StatusCode != 400 || !strings.Contains(body, "Host") {
		t.Errorf("got %d %q; want the whole 400 about the missing Host", resp.StatusCode, body)
	}
}

// A client that ends its side (FIN) before the body its Content-Length or
// chunks announced is complete sent a bad request: 400, not what the app
// makes of half a body. (A reset is tested in TestServerSurvivesBadInput.)
func TestBodyCutShortByTheClientsFIN(t *testing.T) {
	addr := transcript.Start(t, newServer(time.Hour).Serve)
	// /environ is the route that reads the body (step 05's echo); POST /
	// would get the router's 405 without a byte of the body read.
	for name, request := range map[string]string{
		"Content-Length":    "POST /environ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel",
		"inside a chunk":    "POST /environ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
		"after chunk data":  "POST /environ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel",
		"before last chunk": "POST /environ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := sendAndHalfClose(t, addr, request)
			if resp.StatusCode != 400 || strings.Contains(body, "REQUEST_METHOD") {
				t.Errorf("got %d %q; want a 400, not the app's answer", resp.StatusCode, body)
			}
		})
	}
}

// The server reuses, from one request on a connection to the next, the
// Request it reads into, the room for the response's headers and the
// boxes of the environ's values (perConn in server.go, "Why it is fast" in
// the README). Nothing of one request may show in the next.
func TestAKeptAliveConnectionForgetsTheLastRequest(t *testing.T) {
	var environs []Environ
	app := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		environs = append(environs, environ) // kept, as an app may
		headers := []Header{{"X-A", "a"}}
		if environ["PATH_INFO"] == "/three" {
			headers = append(headers, Header{"X-B", "b"}, Header{"X-C", "c"})
		}
		startResponse("200 OK", headers, nil)
		return func(yield func([]byte) bool) { yield([]byte("ok")) }
	}
	addr := transcript.Start(t, (&Server{App: app, Errors: io.Discard}).Serve)
	conn := transcript.Dial(t, addr)
	io.WriteString(conn, "GET /three?q=1 HTTP/1.1\r\nHost: a\r\nX-Only-First: 1\r\n\r\n"+
		"GET /one HTTP/1.1\r\nHost: b\r\n\r\n"+
		"HEAD /one HTTP/1.1\r\nHost: b\r\n\r\n"+
		"GET / HTTP/1.1\n\r\n") // a bare LF: refused before its request line is parsed
	br := bufio.NewReader(conn)
	var got []*http.Response
	for _, method := range []string{"GET", "GET", "HEAD", "GET"} {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v", len(got)+1, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Header.Set("X-Body", string(body))
		got = append(got, resp)
	}
	if len(environs) != 3 {
		t.Fatalf("the app ran %d times; want 3", len(environs))
	}
	first, second := environs[0], environs[1]
	for key, want := range map[string]any{"PATH_INFO": "/three", "QUERY_STRING": "q=1", "SERVER_NAME": "a", "HTTP_HOST": "a", "HTTP_X_ONLY_FIRST": "1"} {
		if first[key] != want {
			t.Errorf("after two more requests, the first environ's %s is %v; want %v", key, first[key], want)
		}
	}
	for key, want := range map[string]any{"PATH_INFO": "/one", "QUERY_STRING": "", "SERVER_NAME": "b", "HTTP_HOST": "b", "HTTP_X_ONLY_FIRST": nil} {
		if second[key] != want {
			t.Errorf("the second environ's %s is %v; want %v", key, second[key], want)
		}
	}
	if h := got[1].Header; h.Get("X-A") != "a" || h.Get("X-B") != "" || h.Get("X-C") != "" {
		t.Errorf("the second response's headers are %v; want X-A and none of the first's X-B, X-C", h)
	}
	if last := got[3]; last.StatusCode != 400 || last.Header.Get("X-Body") == "" {
		t.Errorf("after a HEAD, a GET refused before its request line was parsed got %d with body %q; want a 400 with its body",
			last.StatusCode, last.Header.Get("X-Body"))
	}
}

// TestTheDateCacheFollowsTheClock: a connection keeps the last Date value
// (dateCache), and every response must still get its own second's, never
// the last one's: across a second's end, a minute's, a clock set back, and
// a time in another zone.
func TestTheDateCacheFollowsTheClock(t *testing.T) {
	start := time.Date(2026, 12, 6, 23, 59, 58, 600_000_000, time.UTC)
	offsets := []time.Duration{0, 300 * time.Millisecond, 399 * time.Millisecond, 400 * time.Millisecond,
		time.Second, 1400 * time.Millisecond, 90 * time.Second, -time.Hour, -time.Hour + time.Nanosecond}
	var dates dateCache
	for _, offset := range offsets {
		now := start.Add(offset)
		for _, at := range []time.Time{now, now.In(time.FixedZone("UTC+5", 5*3600))} {
			got := string(dates.appendDate([]byte("Date: "), at))
			if want := "Date: " + at.UTC().Format(imfFixdate); got != want {
				t.Errorf("at %v: got %q, want %q", at, got, want)
			}
		}
	}
}

// TestDeadlinesAreSkippedOnlyWhenNothingIsLeftToRead: handle sets no head
// deadline for a head already in its buffer (headBuffered) and no body
// deadline for a request without a body (announcesBody). Each row is a
// second request, after a first one that skipped both, whose head or body
// stalls: it must still get its 408 from the short timeout, where a wrong
// skip would leave it to the idle timeout (an hour).
func TestDeadlinesAreSkippedOnlyWhenNothingIsLeftToRead(t *testing.T) {
	const short, pause = 200 * time.Millisecond, 400 * time.Millisecond
	headTimed := transcript.Start(t, (&Server{App: demo, Errors: io.Discard, HeaderTimeout: short, BodyTimeout: time.Hour, IdleTimeout: time.Hour}).Serve)
	bodyTimed := transcript.Start(t, (&Server{App: demo, Errors: io.Discard, HeaderTimeout: time.Hour, BodyTimeout: short, IdleTimeout: time.Hour}).Serve)
	const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name, addr, send string
	}{
		{"a head after empty lines, stalled", headTimed, get + "\r\n\r\nGET / HT"},
		{"a head with no empty line yet, stalled", headTimed, get + "GET / HTTP/1.1\r\nHost: x\r\n"},
		{"a Content-Length body, stalled", bodyTimed, get + "POST /environ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel"},
		{"a chunked body, stalled", bodyTimed, get + "POST /environ HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := transcript.Dial(t, tt.addr)
			conn.SetReadDeadline(time.Now().Add(10 * pause)) // a wrong skip fails here, not after an hour
			io.WriteString(conn, tt.send)
			all, err := io.ReadAll(conn)
			if got := strings.Count(string(all), "HTTP/1.1 "); got != 2 || !strings.Contains(string(all), "HTTP/1.1 408 ") {
				t.Errorf("got %d responses (%v), want a 200 then a 408; all:\n%s", got, err, all)
			}
		})
	}
}
