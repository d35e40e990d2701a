package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// requestLine returns "GET /aaa…a HTTP/1.1" exactly n bytes long.
func requestLine(n int) string {
	return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1"
}

// padField returns one field line "X-Pad: aaa…a\r\n" exactly n bytes long, CRLF included.
func padField(n int) string {
	return "X-Pad: " + strings.Repeat("a", n-len("X-Pad: \r\n")) + "\r\n"
}

// numberedFields returns n field lines "X-1: 1\r\n", "X-2: 2\r\n", ...
func numberedFields(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "X-%d: %d\r\n", i, i)
	}
	return b.String()
}

func parse(head string) (*Request, error) {
	req := new(Request)
	return req, readRequest(bufio.NewReader(strings.NewReader(head)), req, nil)
}

func TestReadRequestAccepts(t *testing.T) {
	host := []Field{{"Host", "example.com"}}
	hundred := []Field{{"Host", "x"}}
	for i := 1; i <= 99; i++ {
		hundred = append(hundred, Field{fmt.Sprintf("X-%d", i), fmt.Sprint(i)})
	}
	long := strings.Repeat("a", 7999)
	tests := []struct {
		name string
		head string
		want *Request
	}{
		{"simple GET", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", host}},
		{"HTTP/1.0 may omit Host", "GET / HTTP/1.0\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.0", nil}},
		{"target kept exactly as sent", "GET /a%20b/../c?x=1&y HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "/a%20b/../c?x=1&y", "HTTP/1.1", host}},
		{"fields in order, names as sent, values trimmed",
			"POST /form HTTP/1.1\r\nhost: example.com\r\nContent-Type:  text/plain \t\r\nX-Empty:\r\nx-tab: a\tb\r\n\r\n",
			&Request{"POST", "/form", "HTTP/1.1", []Field{
				{"host", "example.com"}, {"Content-Type", "text/plain"}, {"X-Empty", ""}, {"x-tab", "a\tb"}}}},
		{"obs-text bytes in a value", "GET / HTTP/1.1\r\nHost: example.com\r\nX-Name: caf\xc3\xa9 \xff\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", "example.com"}, {"X-Name", "caf\xc3\xa9 \xff"}}}},
		{"unknown method is the app's business", "BREW /pot HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"BREW", "/pot", "HTTP/1.1", host}},
		{"lower-case method is a different method", "get / HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"get", "/", "HTTP/1.1", host}},
		{"absolute-form", "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "http://example.com/x?y", "HTTP/1.1", host}},
		{"absolute-form scheme in capitals", "GET HTTPS://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "HTTPS://example.com/", "HTTP/1.1", host}},
		{"asterisk-form for OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"OPTIONS", "*", "HTTP/1.1", host}},
		{"HTTP/1.2 is read as HTTP/1.1", "GET / HTTP/1.2\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", host}},
		{"Host as an IPv6 literal with a port", "GET / HTTP/1.1\r\nHost: [::1]:8004\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", "[::1]:8004"}}}},
		{"Host as an IPv6 literal without a port", "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", "[2001:db8::1]"}}}},
		{"Host as a reg-name with sub-delims and an escape", "GET / HTTP/1.1\r\nHost: a-b_c.~!$&'()*+,;=%41:80\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", "a-b_c.~!$&'()*+,;=%41:80"}}}},
		{"Host with an empty port", "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", "example.com:"}}}},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", ""}}}},
		{"4 empty lines before the request line", "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "/", "HTTP/1.1", host}},
		{"8000-octet target", "GET /" + long + " HTTP/1.1\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "/" + long, "HTTP/1.1", host}},
		{"request line of exactly 8192 bytes", requestLine(8192) + "\r\nHost: example.com\r\n\r\n",
			&Request{"GET", "/" + strings.Repeat("a", 8192-len("GET / HTTP/1.1")), "HTTP/1.1", host}},
		{"100 fields", "GET / HTTP/1.1\r\nHost: x\r\n" + numberedFields(99) + "\r\n",
			&Request{"GET", "/", "HTTP/1.1", hundred}},
		{"field lines of exactly 16384 bytes", "GET / HTTP/1.1\r\nHost: x\r\n" + padField(16384-len("Host: x\r\n")) + "\r\n",
			&Request{"GET", "/", "HTTP/1.1", []Field{{"Host", "x"}, {"X-Pad", strings.Repeat("a", 16384-len("Host: x\r\n")-len("X-Pad: \r\n"))}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.head)
			if err != nil {
				t.Fatalf("readRequest: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readRequest mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadRequestRefuses(t *testing.T) {
	const host = "Host: example.com\r\n"
	tests := []struct {
		name string
		head string
		code int
		why  string // a part of statusError.Text
	}{
		// Line endings (RFC 9112 §2.2).
		{"bare LF after the request line", "GET / HTTP/1.1\n" + host + "\r\n", 400, "bare LF"},
		{"bare LF after a field line", "GET / HTTP/1.1\r\nHost: example.com\n\r\n", 400, "bare LF"},
		{"bare LF as the empty line", "GET / HTTP/1.1\r\n" + host + "\n", 400, "bare LF"},
		{"bare LF before the request line", "\nGET / HTTP/1.1\r\n" + host + "\r\n", 400, "bare LF"},
		{"CR inside the request line", "GET /\r HTTP/1.1\r\n" + host + "\r\n", 400, "CR not followed by LF"},
		{"CR inside a field value", "GET / HTTP/1.1\r\n" + host + "X: a\rb\r\n\r\n", 400, "CR not followed by LF"},
		{"5 empty lines before the request line", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n", 400, "empty lines"},
		// The head must end with an empty line.
		{"ends inside the request line", "GET / HT", 400, "ended early"},
		{"ends after the request line", "GET / HTTP/1.1\r\n", 400, "ended early"},
		{"ends without the empty line", "GET / HTTP/1.1\r\n" + host, 400, "ended early"},
		{"ends after a CR", "GET / HTTP/1.1\r\n" + host + "\r", 400, "ended early"},
		// Request line shape (RFC 9112 §3).
		{"two words", "GET /\r\n" + host + "\r\n", 400, "METHOD SP TARGET SP VERSION"},
		{"four words", "GET / extra HTTP/1.1\r\n" + host + "\r\n", 400, "METHOD SP TARGET SP VERSION"},
		{"double space", "GET  / HTTP/1.1\r\n" + host + "\r\n", 400, "METHOD SP TARGET SP VERSION"},
		{"leading space", " GET / HTTP/1.1\r\n" + host + "\r\n", 400, "METHOD SP TARGET SP VERSION"},
		{"trailing space", "GET / HTTP/1.1 \r\n" + host + "\r\n", 400, "METHOD SP TARGET SP VERSION"},
		{"tabs as separators", "GET\t/\tHTTP/1.1\r\n" + host + "\r\n", 400, "METHOD SP TARGET SP VERSION"},
		{"method is not a token", "GE(T / HTTP/1.1\r\n" + host + "\r\n", 400, "not a token"},
		{"method with a NUL", "GET\x00 / HTTP/1.1\r\n" + host + "\r\n", 400, "not a token"},
		// Request target (RFC 9112 §3.2).
		{"target with DEL", "GET /a\x7fb HTTP/1.1\r\n" + host + "\r\n", 400, "byte 0x7F"},
		{"target with a non-ASCII byte", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n", 400, "byte 0xC3"},
		{"target without a leading slash", "GET index.html HTTP/1.1\r\n" + host + "\r\n", 400, "must start with /"},
		{"target with another scheme", "GET ftp://example.com/ HTTP/1.1\r\n" + host + "\r\n", 400, "must start with /"},
		{"asterisk for GET", "GET * HTTP/1.1\r\n" + host + "\r\n", 400, "only for OPTIONS"},
		{"CONNECT to a path", "CONNECT / HTTP/1.1\r\n" + host + "\r\n", 400, "host:port"},
		{"CONNECT without a port", "CONNECT example.com HTTP/1.1\r\n" + host + "\r\n", 400, "host:port"},
		{"CONNECT with userinfo", "CONNECT u@example.com:443 HTTP/1.1\r\n" + host + "\r\n", 400, "host:port"},
		{"CONNECT with an empty host", "CONNECT :443 HTTP/1.1\r\n" + host + "\r\n", 400, "host:port"},
		{"CONNECT with an empty port", "CONNECT example.com: HTTP/1.1\r\n" + host + "\r\n", 400, "host:port"},
		{"CONNECT to host:port", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501, "not implemented"},
		{"fragment in the target", "GET /a?page=1#x HTTP/1.1\r\n" + host + "\r\n", 400, "fragment"},
		{"fragment in an absolute-form target", "GET http://example.com/#top HTTP/1.1\r\n" + host + "\r\n", 400, "fragment"},
		{"authority-form for GET", "GET example.com:80 HTTP/1.1\r\n" + host + "\r\n", 400, "must start with /"},
		// HTTP-version (RFC 9112 §2.3).
		{"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", 400, "malformed HTTP version"},
		{"two-digit minor", "GET / HTTP/1.10\r\n" + host + "\r\n", 400, "malformed HTTP version"},
		{"version without minor", "GET / HTTP/1\r\n" + host + "\r\n", 400, "malformed HTTP version"},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", 505, "not HTTP/2.0"},
		{"HTTP/3.0", "GET / HTTP/3.0\r\n" + host + "\r\n", 505, "not HTTP/3.0"},
		{"HTTP/0.9", "GET / HTTP/0.9\r\n" + host + "\r\n", 505, "not HTTP/0.9"},
		// Field lines (RFC 9112 §5).
		{"space before colon", "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n", 400, "whitespace before colon"},
		{"tab before colon", "GET / HTTP/1.1\r\nHost\t: example.com\r\n\r\n", 400, "whitespace before colon"},
		{"obs-fold", "GET / HTTP/1.1\r\n" + host + "X-Long: a\r\n b\r\n\r\n", 400, "obsolete line folding"},
		{"whitespace before the first field", "GET / HTTP/1.1\r\n\t" + host + "\r\n", 400, "obsolete line folding"},
		{"no colon", "GET / HTTP/1.1\r\n" + host + "X-Nothing\r\n\r\n", 400, "no colon"},
		{"empty name", "GET / HTTP/1.1\r\n" + host + ": x\r\n\r\n", 400, "empty header field name"},
		{"space in name", "GET / HTTP/1.1\r\n" + host + "X Y: 1\r\n\r\n", 400, "not a token"},
		{"non-token name", "GET / HTTP/1.1\r\n" + host + "X(Y): 1\r\n\r\n", 400, "not a token"},
		{"NUL in value", "GET / HTTP/1.1\r\n" + host + "X: a\x00b\r\n\r\n", 400, "control byte 0x00"},
		{"ESC in value", "GET / HTTP/1.1\r\n" + host + "X: \x1b[31m\r\n\r\n", 400, "control byte 0x1B"},
		{"DEL in value", "GET / HTTP/1.1\r\n" + host + "X: a\x7f\r\n\r\n", 400, "control byte 0x7F"},
		// Host (RFC 9112 §3.2).
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, "missing Host"},
		{"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"},
		{"two Host fields in other cases", "GET / HTTP/1.1\r\nhost: a\r\nHOST: b\r\n\r\n", 400, "more than one Host"},
		{"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "not host[:port]"},
		{"Host with a path", "GET / HTTP/1.0\r\nHost: a/b\r\n\r\n", 400, "not host[:port]"},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, "not host[:port]"},
		{"Host with an unclosed bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "not host[:port]"},
		{"Host with stray brackets", "GET / HTTP/1.1\r\nHost: ]]:80\r\n\r\n", 400, "not host[:port]"},
		{"Host with two colons", "GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n", 400, "not host[:port]"},
		{"Host with a port that is not digits", "GET / HTTP/1.1\r\nHost: a:http\r\n\r\n", 400, "not host[:port]"},
		{"Host with an IPv6 literal unbracketed", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", 400, "not host[:port]"},
		{"Host with a bracketed IPv4 address", "GET / HTTP/1.1\r\nHost: [127.0.0.1]\r\n\r\n", 400, "not host[:port]"},
		{"Host with a zone", "GET / HTTP/1.1\r\nHost: [fe80::1%eth0]\r\n\r\n", 400, "not host[:port]"},
		{"Host with text after the bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400, "not host[:port]"},
		{"Host with a broken escape", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", 400, "not host[:port]"},
		{"two Host fields on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"},
		// Limits.
		{"request line of 8193 bytes", requestLine(8193) + "\r\n" + host + "\r\n", 414, "longer than 8192 bytes"},
		{"request line of 100000 bytes", requestLine(100000) + "\r\n" + host + "\r\n", 414, "longer than 8192 bytes"},
		{"101 fields", "GET / HTTP/1.1\r\n" + host + numberedFields(100) + "\r\n", 431, "more than 100 header fields"},
		{"field lines of 16385 bytes", "GET / HTTP/1.1\r\nHost: x\r\n" + padField(16385-len("Host: x\r\n")) + "\r\n", 431, "16384 bytes"},
		{"one field line of 20000 bytes", "GET / HTTP/1.1\r\n" + host + padField(20000) + "\r\n", 431, "16384 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parse(tt.head)
			var se *statusError
			if !errors.As(err, &se) {
				t.Fatalf("readRequest = %+v, %v; want a *statusError with code %d", req, err, tt.code)
			}
			if se.Code != tt.code || !strings.Contains(se.Text, tt.why) {
				t.Errorf("readRequest error = %d %q; want %d and a text containing %q", se.Code, se.Text, tt.code, tt.why)
			}
			if strings.ContainsAny(se.Text, "\r\n") {
				t.Errorf("error text %q must be a single line: it becomes the response body", se.Text)
			}
		})
	}
}

func TestReadRequestClosedBeforeRequest(t *testing.T) {
	for _, head := range []string{"", "\r\n", "\r\n\r\n\r\n\r\n"} {
		t.Run(fmt.Sprintf("%q", head), func(t *testing.T) {
			req, err := parse(head)
			if err != io.EOF {
				t.Errorf("readRequest = %+v, %v; want io.EOF so the server just closes", req, err)
			}
		})
	}
}

func TestReadRequestPassesOnReadErrors(t *testing.T) {
	errGone := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("GET / HTTP/1.1\r\nHo"), iotest.ErrReader(errGone))
	req := new(Request)
	if err := readRequest(bufio.NewReader(r), req, nil); err != errGone {
		t.Errorf("readRequest = %+v, %v; want the reader's own error %v", req, err, errGone)
	}
}

func TestReadRequestLeavesTheBodyUnread(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"))
	if err := readRequest(br, new(Request), nil); err != nil {
		t.Fatalf("readRequest: %v", err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "hello" {
		t.Errorf("after the head the reader holds %q; want %q", rest, "hello")
	}
}

// Lines arrive split across many reads and across many bufio buffers.
func TestReadRequestOneByteAtATime(t *testing.T) {
	head := "\r\nPUT /" + strings.Repeat("p", 5000) + " HTTP/1.1\r\nHost: example.com\r\nX-Long: " +
		strings.Repeat("v", 5000) + "\r\n\r\n"
	want, err := parse(head)
	if err != nil {
		t.Fatalf("readRequest: %v", err)
	}
	for _, size := range []int{16, 4096} {
		t.Run(fmt.Sprintf("buffer of %d bytes", size), func(t *testing.T) {
			r := iotest.OneByteReader(strings.NewReader(head))
			got := new(Request)
			if err := readRequest(bufio.NewReaderSize(r, size), got, nil); err != nil {
				t.Fatalf("readRequest: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("readRequest mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// endlessReader sends prefix, then 'a' forever, and counts what it sent.
type endlessReader struct {
	prefix string
	sent   int
}

func (r *endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		if r.sent+i < len(r.prefix) {
			p[i] = r.prefix[r.sent+i]
		} else {
			p[i] = 'a'
		}
	}
	r.sent += len(p)
	return len(p), nil
}

// A client that never sends a newline must be stopped at the limit,
// not allowed to fill the server's memory.
func TestReadRequestEndlessLine(t *testing.T) {
	const slack = 4096 // one bufio buffer may be read past the limit
	tests := []struct {
		name   string
		prefix string
		code   int
		limit  int
	}{
		{"request line", "GET /", 414, maxRequestLine + 2 + slack},
		{"field line", "GET / HTTP/1.1\r\nX: ", 431, len("GET / HTTP/1.1\r\n") + maxHeaderBytes + 2 + slack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &endlessReader{prefix: tt.prefix}
			err := readRequest(bufio.NewReader(r), new(Request), nil)
			var se *statusError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("readRequest error = %v; want code %d", err, tt.code)
			}
			if r.sent > tt.limit {
				t.Errorf("read %d bytes before refusing; want at most %d", r.sent, tt.limit)
			}
		})
	}
}

func TestStatusErrorMessage(t *testing.T) {
	err := error(&statusError{Code: 431, Text: "more than 100 header fields"})
	want := "431 Request Header Fields Too Large: more than 100 header fields"
	if err.Error() != want {
		t.Errorf("Error() = %q; want %q", err.Error(), want)
	}
}

func TestReasonPhrase(t *testing.T) {
	for code, want := range map[int]string{
		200: "OK", 400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large", 414: "URI Too Long",
		431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
		505: "HTTP Version Not Supported", 418: "Unknown",
	} {
		if got := reasonPhrase(code); got != want {
			t.Errorf("reasonPhrase(%d) = %q; want %q", code, got, want)
		}
	}
}

// TestKeptLinesGiveEachHeadItsOwnLines: the server reads every head of a
// connection with the same keptLines, which hands out the last head's
// string for a line that is byte for byte the same. Each head must still
// parse exactly as it does alone: lines that change by one byte, grow,
// shrink, swap places or come after the 17 kept ones.
func TestKeptLinesGiveEachHeadItsOwnLines(t *testing.T) {
	many := "GET /many HTTP/1.1\r\n"
	for i := range 20 {
		many += fmt.Sprintf("X-%d: %d\r\n", i, i%3)
	}
	heads := []string{
		"GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: b\r\nAccept: */*\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: bb\r\nAccept: */\r\n\r\n",
		"GET / HTTP/1.1\r\nAccept: */*\r\nHost: a\r\n\r\n",
		"\r\nGET / HTTP/1.0\r\n\r\n",
		many + "Host: a\r\n\r\n",
		strings.Replace(many, "X-19: 1", "X-19: 2", 1) + "Host: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
	}
	var kept keptLines
	req := new(Request)
	for i, head := range heads {
		want := new(Request)
		wantErr := readRequest(bufio.NewReader(strings.NewReader(head)), want, nil)
		err := readRequest(bufio.NewReader(strings.NewReader(head)), req, &kept)
		if diff := cmp.Diff(want, req, cmpopts.EquateEmpty()); diff != "" || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("head %d, %q: with the last head's lines kept got %v, want %v; (-alone +kept):\n%s", i, head, err, wantErr, diff)
		}
	}
}
