package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The edges of what start_response and the validator accept: status codes
// either side of 100 and 599, Latin-1 either side of U+00FF, control bytes
// either side of the visible range, every byte in a header name, and the
// app's own Content-Length.

// startResponseRefuses calls start_response and returns its panic message,
// or "" when it accepts status and headers.
func startResponseRefuses(status string, headers ...Header) string {
	r := newResponse(bufio.NewWriter(io.Discard), &Request{Method: "GET", Proto: "HTTP/1.1"}, &body{}, io.Discard, fixedNow)
	if p := catchPanic(func() { r.startResponse(status, headers, nil) }); p != nil {
		return fmt.Sprint(p)
	}
	return ""
}

func TestStatusCodeEdges(t *testing.T) {
	tests := []struct {
		status    string
		refused   bool // by start_response (RFC 9110 §15: 100-599)
		validator string
	}{
		// wsgiref.validate checks only the lower bound; the server checks both.
		{"099 Too Low", true, "Status code is invalid: 99"},
		{"100 Continue", false, "no panic"},
		{"599 Last", false, "no panic"},
		{"600 Too High", true, "no panic"},
		{"000 Zero", true, "Status code is invalid: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			msg := startResponseRefuses(tt.status, textPlain)
			if tt.refused != (msg != "") {
				t.Errorf("start_response(%q) panicked with %q; want refused = %v", tt.status, msg, tt.refused)
			}
			if tt.refused && !strings.Contains(msg, "is not between 100 and 599") {
				t.Errorf("start_response(%q) panicked with %q; want the range named", tt.status, msg)
			}
			_, _, _, _, p := callApp(Validator(respond(tt.status, textPlain)), goodEnviron())
			if got := contractMessage(p); got != tt.validator {
				t.Errorf("validator on %q: %s; want %s", tt.status, got, tt.validator)
			}
		})
	}
}

// PEP 3333: status and headers are Latin-1 strings; each rune up to
// U+00FF goes out as one byte, and U+0100 cannot.
func TestLatin1Edges(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		headers []Header
		refused string // a part of the panic message; "" when accepted
		wire    string // a line the accepted response must hold
	}{
		{"U+00FF in the reason", "200 \u00ff", []Header{textPlain}, "", "HTTP/1.1 200 \xff\r\n"},
		{"U+0100 in the reason", "200 \u0100", []Header{textPlain}, "is not Latin-1", ""},
		{"U+00FF in a value", "200 OK", []Header{textPlain, {"X-Y", "\u00ff"}}, "", "X-Y: \xff\r\n"},
		{"U+0100 in a value", "200 OK", []Header{textPlain, {"X-Y", "\u0100"}}, "is not Latin-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := startResponseRefuses(tt.status, tt.headers...); tt.refused == "" && got != "" ||
				tt.refused != "" && !strings.Contains(got, tt.refused) {
				t.Fatalf("start_response panicked with %q; want %q", got, tt.refused)
			}
			if tt.refused != "" {
				return
			}
			var wire bytes.Buffer
			serveTo(&wire, "GET", "HTTP/1.1", nil, yielding(tt.status, tt.headers, chunks("ok")))
			if !strings.Contains(wire.String(), tt.wire) {
				t.Errorf("wire %q does not hold %q", wire.String(), tt.wire)
			}
		})
	}
}

// Control bytes either side of the visible range, in a header value and
// in the status's reason.
func TestControlByteEdges(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		refused bool
	}{
		{"0x1F", "a\x1fb", true},
		{"0x20", "a b", false},
		{"0x7E", "a~b", false},
		{"0x7F", "a\x7fb", true},
		{"0x09, HTAB", "a\tb", false},
		{"0x00", "a\x00b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := startResponseRefuses("200 OK", textPlain, Header{"X-Y", tt.text}); tt.refused != strings.Contains(got, "control character") {
				t.Errorf("value %q: panic %q; want refused = %v", tt.text, got, tt.refused)
			}
			// A reason phrase may not start or end with whitespace, so the
			// byte sits inside it.
			if got := startResponseRefuses("200 "+tt.text, textPlain); tt.refused != strings.Contains(got, "control character") {
				t.Errorf("status %q: panic %q; want refused = %v", "200 "+tt.text, got, tt.refused)
			}
		})
	}
}

// Every byte value in a header name: a token byte is accepted, anything
// else refused (RFC 9110 §5.6.2).
func TestHeaderNameBytes(t *testing.T) {
	for c := 0; c <= 0xff; c++ {
		b := string(rune(c)) // Latin-1: the rune that goes out as this byte
		name := "X" + b + "Y"
		got := startResponseRefuses("200 OK", textPlain, Header{name, "1"})
		want := ""
		if !strings.Contains(tchar, b) {
			want = fmt.Sprintf("start_response: header name %q is not a token (RFC 9110 §5.6.2)", name)
		}
		if got != want {
			t.Errorf("header name with U+%04X: panic %q; want %q", c, got, want)
		}
	}
}

// The server frames the body by the app's Content-Length, so two of them
// are refused even when one is 0; and an app's Content-Length: 0 is the
// only one that goes out.
func TestAppContentLength(t *testing.T) {
	cl := func(v string) Header { return Header{"Content-Length", v} }
	for _, headers := range [][]Header{{cl("0"), cl("5")}, {cl("5"), cl("0")}, {cl("0"), {"content-length", "0"}}} {
		if got := startResponseRefuses("200 OK", append([]Header{textPlain}, headers...)...); !strings.Contains(got, "more than one Content-Length") {
			t.Errorf("start_response with %q: panic %q; want two Content-Lengths refused", headers, got)
		}
	}
	tests := []struct {
		name, method, proto string
		body                []string
	}{
		{"empty body", "GET", "HTTP/1.1", nil},
		{"empty chunks", "GET", "HTTP/1.1", []string{"", ""}},
		{"a body it said was empty", "GET", "HTTP/1.1", []string{"dropped"}},
		{"HTTP/1.0", "GET", "HTTP/1.0", nil},
		{"HEAD", "HEAD", "HTTP/1.1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wire bytes.Buffer
			serveTo(&wire, tt.method, tt.proto, nil, yielding("200 OK", []Header{textPlain, cl("0")}, chunks(tt.body...)))
			head, rest, _ := strings.Cut(wire.String(), "\r\n\r\n")
			if n := strings.Count(strings.ToLower(head), "content-length:"); n != 1 || !strings.Contains(head, "\r\nContent-Length: 0") {
				t.Errorf("head has %d Content-Length lines; want the app's one:\n%s", n, head)
			}
			if strings.Contains(head, "Transfer-Encoding") || rest != "" {
				t.Errorf("want no chunked framing and no body; got head\n%s\nand body %q", head, rest)
			}
		})
	}
}

func TestValidatorOnTheEnviron(t *testing.T) {
	environ := goodEnviron()
	delete(environ, "SERVER_NAME")
	_, _, _, _, p := callApp(Validator(respond("200 OK", textPlain)), environ)
	if got := contractMessage(p); got != "Environment missing required key: 'SERVER_NAME'" {
		t.Errorf("missing SERVER_NAME: %s; want it reported", got)
	}
	for _, scheme := range []string{"http", "https"} {
		environ := goodEnviron()
		environ["wsgi.url_scheme"] = scheme
		_, _, body, warnings, p := callApp(Validator(respond("200 OK", textPlain)), environ)
		if p != nil || warnings != "" || string(body) != "ok" {
			t.Errorf("wsgi.url_scheme %q: panic %v, warnings %q, body %q; want it passed through", scheme, p, warnings, body)
		}
	}
	for _, scheme := range []string{"HTTP", "ws", ""} {
		environ := goodEnviron()
		environ["wsgi.url_scheme"] = scheme
		_, _, _, _, p := callApp(Validator(respond("200 OK", textPlain)), environ)
		if want := "wsgi.url_scheme unknown: " + pyQuote(scheme); contractMessage(p) != want {
			t.Errorf("wsgi.url_scheme %q: %s; want %s", scheme, contractMessage(p), want)
		}
	}
}

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses never have a body; the
// statuses either side of them do.
func TestBodylessStatusEdges(t *testing.T) {
	tests := []struct {
		status string
		body   bool
	}{
		{"100 Continue", false}, {"199 Last Informational", false},
		{"200 OK", true}, {"203 Non-Authoritative Information", true},
		{"204 No Content", false}, {"205 Reset Content", true},
		{"303 See Other", true}, {"304 Not Modified", false}, {"305 Use Proxy", true},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			var events []string
			var wire bytes.Buffer
			_, log := serveTo(&wire, "GET", "HTTP/1.1", nil, yielding(tt.status, nil, trackedBody(&events, "a", "b", "c")))
			head, body, _ := strings.Cut(wire.String(), "\r\n\r\n")
			if !tt.body {
				// The body is stopped at its first chunk, which is dropped once.
				if body != "" || strings.Contains(head, "Content-Length") || strings.Contains(head, "Transfer-Encoding") {
					t.Errorf("a %s response framed a body:\n%q", tt.status, wire.String())
				}
				if n := strings.Count(log, "bytes dropped"); n != 1 || len(events) != 2 || events[0] != "stopped by the server" {
					t.Errorf("log %q (%d drops), body events %q; want one drop and the body stopped", log, n, events)
				}
				return
			}
			if !strings.Contains(head, "Transfer-Encoding: chunked") || body != "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n" {
				t.Errorf("a %s response lost its body:\n%q", tt.status, wire.String())
			}
		})
	}
}

// wsgiref.validate refuses \000-\037 in a header value (HTAB included),
// not DEL, and counts a status code's characters, not its bytes.
func TestValidatorEdges(t *testing.T) {
	tests := []struct {
		name    string
		app     App
		message string
	}{
		{"0x1F in a value", respond("200 OK", textPlain, Header{"X", "a\x1f"}), `Bad header value: 'a\x1f' (bad char: '\x1f')`},
		{"0x20 in a value", respond("200 OK", textPlain, Header{"X", "a b"}), "no panic"},
		{"0x7F in a value", respond("200 OK", textPlain, Header{"X", "a\x7f"}), "no panic"},
		{"a three-character code that is not a number", respond("1é0 OK", textPlain), "Status code is invalid: '1é0'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, _, p := callApp(Validator(tt.app), goodEnviron())
			if got := contractMessage(p); got != tt.message {
				t.Errorf("validator: %s; want %s", got, tt.message)
			}
		})
	}
}
