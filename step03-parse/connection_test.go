package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// A server that closes a socket with unread bytes in it makes the kernel
// send a reset instead of a FIN, and the client's next read fails with
// "connection reset" instead of ending cleanly. lingeringClose reads what
// is left before closing, so the answer arrives whole and ends with the close.
func TestResponseSurvivesAnUnreadBody(t *testing.T) {
	addr := transcript.Start(t, (&Server{Log: io.Discard, ReadTimeout: time.Hour}).Serve)
	conn := transcript.Dial(t, addr)
	// Refused at its head (no Host), so the server never reads the body.
	// 16 KiB is more than one read of the head takes, and all of it is on
	// its way before the server answers.
	unread := strings.Repeat("x", 16<<10)
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nContent-Length: 16384\r\n\r\n"+unread); err != nil {
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
	if err != nil || resp.StatusCode != 400 || !strings.Contains(string(body), "Host") {
		t.Errorf("got %d %q, %v; want the whole 400 about the missing Host", resp.StatusCode, body, err)
	}
}
