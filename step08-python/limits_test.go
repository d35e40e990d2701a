package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Every bound on the request head is tested at the limit (accepted) and one
// past it (refused with its status), and every character class at both of
// its edges. The inputs are computed from the limit constants, so these
// tests follow the code if a limit changes.

// refusal returns the status code readRequest refuses head with, or 0 when
// it accepts it.
func refusal(t *testing.T, head string) int {
	t.Helper()
	_, err := parse(head)
	var se *statusError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return se.Code
	}
	t.Fatalf("readRequest = %v; want a request or a *statusError", err)
	return 0
}

func TestHeadLimitsAtTheBoundary(t *testing.T) {
	const host = "Host: x\r\n" // the one field every HTTP/1.1 request needs
	tests := []struct {
		name string
		head string
		want int // 0: accepted
	}{
		{"request line at the limit", requestLine(maxRequestLine) + "\r\n" + host + "\r\n", 0},
		{"request line one byte over", requestLine(maxRequestLine+1) + "\r\n" + host + "\r\n", 414},
		{"field count at the limit", "GET / HTTP/1.1\r\n" + host + numberedFields(maxHeaderFields-1) + "\r\n", 0},
		{"field count one over", "GET / HTTP/1.1\r\n" + host + numberedFields(maxHeaderFields) + "\r\n", 431},
		// Field bytes count every field line with its CRLF; the empty line
		// that ends the head is not a field line.
		{"one field line of the whole budget", "GET / HTTP/1.0\r\n" + padField(maxHeaderBytes) + "\r\n", 0},
		{"one field line one byte over", "GET / HTTP/1.0\r\n" + padField(maxHeaderBytes+1) + "\r\n", 431},
		{"field lines adding up to the budget", "GET / HTTP/1.1\r\n" + host + padField(maxHeaderBytes-len(host)) + "\r\n", 0},
		{"field lines adding up to one byte over", "GET / HTTP/1.1\r\n" + host + padField(maxHeaderBytes-len(host)+1) + "\r\n", 431},
		{"last field line fills the budget exactly",
			"GET / HTTP/1.1\r\n" + padField(maxHeaderBytes/2) + host + padField(maxHeaderBytes-maxHeaderBytes/2-len(host)) + "\r\n", 0},
		{"empty lines before the request line at the limit", strings.Repeat("\r\n", maxEmptyLines) + "GET / HTTP/1.1\r\n" + host + "\r\n", 0},
		{"one empty line too many", strings.Repeat("\r\n", maxEmptyLines+1) + "GET / HTTP/1.1\r\n" + host + "\r\n", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(t, tt.head); got != tt.want {
				t.Errorf("readRequest refused with %d; want %d (0: accepted)", got, tt.want)
			}
		})
	}
}

// tchar is RFC 9110 §5.6.2's token alphabet, written out independently of
// the parser's own isTokenChar.
const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// delimiters are the bytes RFC 9110 §5.6.2 names as delimiters: never in a token.
const delimiters = `"(),/:;<=>?@[\]{}`

// Every byte value, once in a method and once in a field name: a token
// byte is accepted and kept, anything else gets a 400.
func TestTokenBytes(t *testing.T) {
	for c := 0; c <= 0xff; c++ {
		b := string(rune(c))
		if c >= 0x80 {
			b = string([]byte{byte(c)})
		}
		want := 400
		if strings.Contains(tchar, b) {
			want = 0
		}
		if got := refusal(t, "G"+b+"T / HTTP/1.1\r\nHost: x\r\n\r\n"); got != want {
			t.Errorf("method with byte 0x%02X: refused with %d; want %d (0: accepted)", c, got, want)
		}
		if c == ':' {
			continue // ends the name: "X:Y: 1" is the field X with the value "Y: 1"
		}
		if got := refusal(t, "GET / HTTP/1.1\r\nHost: x\r\nX"+b+"Y: 1\r\n\r\n"); got != want {
			t.Errorf("field name with byte 0x%02X: refused with %d; want %d (0: accepted)", c, got, want)
		}
	}
}

// The delimiters by name, so a failure says which one got through.
func TestDelimitersAreNotTokens(t *testing.T) {
	for _, c := range delimiters {
		t.Run(fmt.Sprintf("%c", c), func(t *testing.T) {
			if got := refusal(t, "GE"+string(c)+"T / HTTP/1.1\r\nHost: x\r\n\r\n"); got != 400 {
				t.Errorf("method GE%cT: refused with %d; want 400", c, got)
			}
			if c == ':' {
				return
			}
			if got := refusal(t, "GET / HTTP/1.1\r\nHost: x\r\nX-"+string(c)+": 1\r\n\r\n"); got != 400 {
				t.Errorf("field name X-%c: refused with %d; want 400", c, got)
			}
			if got := refusal(t, "GET / HTTP/1.1\r\nHost: x\r\n"+string(c)+"X: 1\r\n\r\n"); got != 400 {
				t.Errorf("field name %cX: refused with %d; want 400", c, got)
			}
		})
	}
}

// A field value may hold HTAB, SP to '~' and the obs-text bytes 0x80-0xFF;
// every other control byte (0x00-0x1F but HTAB, and DEL) gets a 400.
func TestFieldValueBytes(t *testing.T) {
	for c := 0; c <= 0xff; c++ {
		value := "a" + string([]byte{byte(c)}) + "b"
		want := 0
		if c < 0x20 && c != '\t' || c == 0x7f {
			want = 400
		}
		req, err := parse("GET / HTTP/1.1\r\nHost: x\r\nX: " + value + "\r\n\r\n")
		var se *statusError
		switch {
		case want == 0 && err != nil:
			t.Errorf("value with byte 0x%02X: %v; want it accepted", c, err)
		case want == 0 && req.Fields[1].Value != value:
			t.Errorf("value with byte 0x%02X: kept %q; want %q", c, req.Fields[1].Value, value)
		case want != 0 && (!errors.As(err, &se) || se.Code != want):
			t.Errorf("value with byte 0x%02X: %v; want a %d", c, err, want)
		}
	}
}

// The edges of the value's classes by name: 0x1F/0x20 and 0x7E/0x7F.
func TestFieldValueClassEdges(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  int
	}{
		{"0x1F, the last control byte", "a\x1fb", 400},
		{"0x20, space, the first visible", "a b", 0},
		{"0x7E, tilde, the last visible", "a~b", 0},
		{"0x7F, DEL", "a\x7fb", 400},
		{"0x80, the first obs-text byte", "a\x80b", 0},
		{"0x09, HTAB", "a\tb", 0},
		{"0x08, just below HTAB", "a\x08b", 400},
		{"0x0B, just above LF", "a\x0bb", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(t, "GET / HTTP/1.1\r\nHost: x\r\nX: "+tt.value+"\r\n\r\n"); got != tt.want {
				t.Errorf("refused with %d; want %d (0: accepted)", got, tt.want)
			}
		})
	}
}

// A request target is visible ASCII, 0x21 to 0x7E (RFC 9112 §3.2).
// ('#' is left out: whether a fragment is refused is decided elsewhere.)
func TestTargetBytes(t *testing.T) {
	for c := 0; c <= 0xff; c++ {
		switch c {
		case ' ', '\r', '\n', '#':
			continue // a space splits the line; CR and LF end it
		}
		want := 400
		if c >= 0x21 && c <= 0x7e {
			want = 0
		}
		if got := refusal(t, "GET /a"+string([]byte{byte(c)})+"b HTTP/1.1\r\nHost: x\r\n\r\n"); got != want {
			t.Errorf("target with byte 0x%02X: refused with %d; want %d (0: accepted)", c, got, want)
		}
	}
}

// The version's digits at their edges: '/' and ':' sit either side of 0-9.
func TestVersionDigits(t *testing.T) {
	tests := []struct {
		proto string
		want  int
	}{
		{"HTTP/1.0", 0}, {"HTTP/1.9", 0},
		{"HTTP/1./", 400}, {"HTTP/1.:", 400},
		{"HTTP//.1", 400}, {"HTTP/:.1", 400},
		{"HTTP/0.9", 505}, {"HTTP/2.0", 505}, {"HTTP/9.9", 505},
	}
	for _, tt := range tests {
		if got := refusal(t, "GET / "+tt.proto+"\r\nHost: x\r\n\r\n"); got != tt.want {
			t.Errorf("%s: refused with %d; want %d (0: accepted)", tt.proto, got, tt.want)
		}
	}
}
