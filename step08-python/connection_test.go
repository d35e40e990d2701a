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
