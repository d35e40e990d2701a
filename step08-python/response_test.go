package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixedNow is the tests' clock, so every Date header is the same.
func fixedNow() time.Time { return time.Date(2026, 11, 21, 19, 17, 55, 0, time.UTC) }

// dateServer is what the server adds to a head when the app did not.
const dateServer = "Date: Sat, 21 Nov 2026 19:17:55 GMT\r\nServer: step08-python\r\n"

// serverError is the whole answer to an app that failed before its headers.
const serverError = "HTTP/1.1 500 Internal Server Error\r\n" + dateServer +
	"Content-Type: text/plain\r\nContent-Length: 59\r\nConnection: close\r\n\r\n" +
	"A server error occurred.  Please contact the administrator."

// serveTo runs app for one request (method, proto, fields) with the response
// written to w, and returns whether the connection may be kept alive and
// what went to wsgi.errors.
func serveTo(w io.Writer, method, proto string, fields []Field, app App) (bool, string) {
	var log strings.Builder
	req := &Request{Method: method, Target: "/", Proto: proto, Fields: fields}
	keepAlive := newResponse(bufio.NewWriter(w), req, &body{}, &log, fixedNow).serve(app, Environ{})
	return keepAlive, log.String()
}

// lines splits wire bytes after each \n, so a diff shows every \r.
func lines(s string) []string { return strings.SplitAfter(s, "\n") }

// yielding is an app that calls start_response, then returns body.
func yielding(status string, headers []Header, body iter.Seq[[]byte]) App {
	return func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		startResponse(status, headers, nil)
		return body
	}
}

// writing is an app that sends written with write(), then returns body.
func writing(status string, headers []Header, written string, body iter.Seq[[]byte]) App {
	return func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write := startResponse(status, headers, nil)
		if err := write([]byte(written)); err != nil {
			panic(err)
		}
		return body
	}
}

// thenPanic yields parts, then panics with message.
func thenPanic(message string, parts ...string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for chunk := range chunks(parts...) {
			if !yield(chunk) {
				return
			}
		}
		panic(errors.New(message))
	}
}

func TestStartResponseChecks(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		headers []Header
		want    string // the panic message; "" when accepted
	}{
		{"plain status", "200 OK", nil, ""},
		{"any reason phrase", "299 Whatever You Like", nil, ""},
		{"reason in Latin-1", "200 Très bien", nil, ""},
		{"status glued to reason", "200OK", nil,
			`start_response: status "200OK" must be three digits, one space and a reason, like "200 OK" (PEP 3333)`},
		{"status code alone", "200", nil,
			`start_response: status "200" must be three digits, one space and a reason, like "200 OK" (PEP 3333)`},
		{"two-digit code", "20 OK", nil,
			`start_response: status "20 OK" must be three digits, one space and a reason, like "200 OK" (PEP 3333)`},
		{"code with a letter", "2x0 OK", nil,
			`start_response: status "2x0 OK" must be three digits, one space and a reason, like "200 OK" (PEP 3333)`},
		{"code below 100", "099 Low", nil,
			`start_response: status code 099 is not between 100 and 599 (RFC 9110 §15)`},
		{"code above 599", "600 High", nil,
			`start_response: status code 600 is not between 100 and 599 (RFC 9110 §15)`},
		{"empty reason", "200 ", nil,
			`start_response: status "200 " needs a reason phrase with no space around it (PEP 3333)`},
		{"two spaces", "200  OK", nil,
			`start_response: status "200  OK" needs a reason phrase with no space around it (PEP 3333)`},
		{"LF in reason", "200 O\nK", nil,
			`start_response: status "200 O\nK" contains a control character (PEP 3333)`},
		{"DEL in reason", "200 OK\x7f!", nil,
			`start_response: status "200 OK\x7f!" contains a control character (PEP 3333)`},
		{"reason beyond Latin-1", "200 ☃", nil,
			`start_response: status "200 ☃" is not Latin-1 (PEP 3333)`},

		{"ordinary headers", "200 OK", []Header{textPlain, {"X-Trace", "a, b"}, {"Set-Cookie", "k=v; Path=/"}}, ""},
		{"HTAB inside a value", "200 OK", []Header{{"X-Tab", "a\tb"}}, ""},
		{"Latin-1 value", "200 OK", []Header{{"X-Name", "café"}}, ""},
		{"header name with a space", "200 OK", []Header{{"X Y", "1"}},
			`start_response: header name "X Y" is not a token (RFC 9110 §5.6.2)`},
		{"header name with a colon", "200 OK", []Header{{"X:", "1"}},
			`start_response: header name "X:" is not a token (RFC 9110 §5.6.2)`},
		{"empty header name", "200 OK", []Header{{"", "1"}},
			`start_response: header name "" is not a token (RFC 9110 §5.6.2)`},
		{"CR LF in a value", "200 OK", []Header{{"X-Evil", "a\r\nInjected: yes"}},
			`start_response: header "X-Evil" has a control character in its value (PEP 3333)`},
		{"NUL in a value", "200 OK", []Header{{"X-Nul", "a\x00"}},
			`start_response: header "X-Nul" has a control character in its value (PEP 3333)`},
		{"DEL in a value", "200 OK", []Header{{"X-Del", "a\x7f"}},
			`start_response: header "X-Del" has a control character in its value (PEP 3333)`},
		{"value beyond Latin-1", "200 OK", []Header{{"X-Snow", "☃"}},
			`start_response: header "X-Snow" value is not Latin-1 (PEP 3333)`},
		{"Content-Length not a number", "200 OK", []Header{{"Content-Length", "abc"}},
			`start_response: Content-Length "abc" is not a number of bytes (RFC 9110 §8.6)`},
		{"Content-Length with a sign", "200 OK", []Header{{"Content-Length", "+5"}},
			`start_response: Content-Length "+5" is not a number of bytes (RFC 9110 §8.6)`},
		{"two Content-Lengths", "200 OK", []Header{{"Content-Length", "5"}, {"content-length", "5"}},
			`start_response: more than one Content-Length header (RFC 9110 §8.6)`},
	}
	for _, name := range []string{"Connection", "keep-alive", "Proxy-Authenticate",
		"Proxy-Authorization", "TE", "Trailers", "TRANSFER-ENCODING", "Upgrade"} {
		tests = append(tests, struct {
			name    string
			status  string
			headers []Header
			want    string
		}{"hop-by-hop " + name, "200 OK", []Header{textPlain, {name, "x"}},
			`start_response: hop-by-hop header "` + name + `" is not allowed (PEP 3333)`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResponse(bufio.NewWriter(io.Discard), &Request{Method: "GET", Proto: "HTTP/1.1"}, &body{}, io.Discard, fixedNow)
			got := ""
			if p := catchPanic(func() { r.startResponse(tt.status, tt.headers, nil) }); p != nil {
				got = p.(error).Error()
			}
			if got != tt.want {
				t.Errorf("start_response(%q, %q) panicked with\n %s\nwant\n %s", tt.status, tt.headers, got, tt.want)
			}
		})
	}
}

// PEP 3333: start_response stores status and headers before checking them,
// so after a failed check only a call with excInfo may try again.
func TestStartResponseStoresBeforeChecking(t *testing.T) {
	r := newResponse(bufio.NewWriter(io.Discard), &Request{Method: "GET", Proto: "HTTP/1.1"}, &body{}, io.Discard, fixedNow)
	headers := []Header{textPlain}
	steps := []struct {
		status  string
		excInfo error
		want    string
	}{
		{"200OK", nil, `start_response: status "200OK" must be three digits, one space and a reason, like "200 OK" (PEP 3333)`},
		{"200 OK", nil, "start_response: headers already set; only a call with excInfo may replace them (PEP 3333)"},
		{"500 Oops", errors.New("the first call failed"), ""},
		{"200 OK", nil, "start_response: headers already set; only a call with excInfo may replace them (PEP 3333)"},
	}
	for i, step := range steps {
		got := ""
		if p := catchPanic(func() { r.startResponse(step.status, headers, step.excInfo) }); p != nil {
			got = p.(error).Error()
		}
		if got != step.want {
			t.Errorf("call %d, start_response(%q, excInfo %v): panic %q, want %q", i+1, step.status, step.excInfo, got, step.want)
		}
	}
	if r.status != "500 Oops" {
		t.Errorf("status = %q, want the one given with excInfo, %q", r.status, "500 Oops")
	}
}

func TestResponseOnTheWire(t *testing.T) {
	contentLength := func(n string) Header { return Header{"Content-Length", n} }
	tests := []struct {
		name      string
		method    string  // "" is GET
		proto     string  // "" is HTTP/1.1
		fields    []Field // request header fields
		app       App
		want      string // the exact bytes on the wire
		wantLog   string // a part of the wsgi.errors log; "" when nothing may be logged
		keepAlive bool
	}{
		// Framing: how the client finds the end of the body.
		{name: "one chunk gets a Content-Length",
			app:       yielding("200 OK", []Header{textPlain}, chunks("ok\n")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n",
			keepAlive: true},
		{name: "empty chunks do not count",
			app:       yielding("200 OK", []Header{textPlain}, chunks("", "ok\n", "")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n",
			keepAlive: true},
		{name: "empty body gets Content-Length 0",
			app:       yielding("200 OK", []Header{textPlain}, chunks()),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
			keepAlive: true},
		{name: "several chunks are chunked on HTTP/1.1",
			app: yielding("200 OK", []Header{textPlain}, chunks("one\n", "", "two\n")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"4\r\none\n\r\n4\r\ntwo\n\r\n0\r\n\r\n",
			keepAlive: true},
		{name: "several chunks end with the close on HTTP/1.0", proto: "HTTP/1.0",
			app:  yielding("200 OK", []Header{textPlain}, chunks("one\n", "two\n")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nConnection: close\r\n\r\none\ntwo\n"},
		{name: "one chunk on HTTP/1.0 still gets a Content-Length", proto: "HTTP/1.0",
			app:  yielding("200 OK", []Header{textPlain}, chunks("ok\n")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"},
		{name: "client asks to close", fields: []Field{{"Connection", "Close"}},
			app:  yielding("200 OK", []Header{textPlain}, chunks("ok\n")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"},
		{name: "app Content-Length frames several chunks",
			app:       yielding("200 OK", []Header{textPlain, contentLength("6")}, chunks("abc", "def")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 6\r\n\r\nabcdef",
			keepAlive: true},
		{name: "app Content-Length shorter than the body: the rest is dropped",
			app:       yielding("200 OK", []Header{textPlain, contentLength("3")}, chunks("abcdefgh", "ijk")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc",
			wantLog:   "the body is longer than its Content-Length 3: 5 bytes dropped, body stopped",
			keepAlive: true},
		{name: "app Content-Length longer than the body: the connection closes",
			app:     yielding("200 OK", []Header{textPlain, contentLength("100")}, chunks("only 6")),
			want:    "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly 6",
			wantLog: "the body ended after 6 of the 100 bytes its Content-Length announced; closing the connection"},
		{name: "write() then a chunk is chunked",
			app: writing("200 OK", []Header{textPlain}, "first\n", chunks("second\n")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"6\r\nfirst\n\r\n7\r\nsecond\n\r\n0\r\n\r\n",
			keepAlive: true},
		{name: "write() on HTTP/1.0 ends with the close", proto: "HTTP/1.0",
			app:  writing("200 OK", []Header{textPlain}, "first\n", chunks()),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nConnection: close\r\n\r\nfirst\n"},
		{name: "write() with the app's Content-Length",
			app:       writing("200 OK", []Header{textPlain, contentLength("12")}, "first\n", chunks("second")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nfirst\nsecond",
			keepAlive: true},

		// HEAD, 204, 304: headers only.
		{name: "HEAD gets GET's Content-Length and no body", method: "HEAD",
			app:       yielding("200 OK", []Header{textPlain}, chunks("ok\n")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\n",
			keepAlive: true},
		{name: "HEAD of a streamed body", method: "HEAD",
			app:       yielding("200 OK", []Header{textPlain}, chunks("one\n", "two\n")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
			keepAlive: true},
		{name: "HEAD with write()", method: "HEAD",
			app:       writing("200 OK", []Header{textPlain}, "first\n", chunks("second\n")),
			want:      "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
			keepAlive: true},
		{name: "204 has no body and no Content-Length",
			app:       yielding("204 No Content", nil, chunks()),
			want:      "HTTP/1.1 204 No Content\r\n" + dateServer + "\r\n",
			keepAlive: true},
		{name: "204 body bytes are dropped",
			app:       yielding("204 No Content", nil, chunks("oops")),
			want:      "HTTP/1.1 204 No Content\r\n" + dateServer + "\r\n",
			wantLog:   "a 204 response has no body: 4 bytes dropped",
			keepAlive: true},
		{name: "304 keeps the app's headers",
			app:       yielding("304 Not Modified", []Header{{"ETag", `"v1"`}}, chunks()),
			want:      "HTTP/1.1 304 Not Modified\r\n" + dateServer + "ETag: \"v1\"\r\n\r\n",
			keepAlive: true},

		// The head the app gives.
		{name: "app's Date and Server are not doubled",
			app:       yielding("200 OK", []Header{textPlain, {"date", "custom"}, {"SERVER", "mine/1.0"}}, chunks("ok\n")),
			want:      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ndate: custom\r\nSERVER: mine/1.0\r\nContent-Length: 3\r\n\r\nok\n",
			keepAlive: true},
		{name: "header values go out as Latin-1",
			app:       yielding("200 Très bien", []Header{textPlain, {"X-Name", "café"}, {"X-Tab", "a\tb"}}, chunks("ok\n")),
			want:      "HTTP/1.1 200 Tr\xe8s bien\r\n" + dateServer + "Content-Type: text/plain\r\nX-Name: caf\xe9\r\nX-Tab: a\tb\r\nContent-Length: 3\r\n\r\nok\n",
			keepAlive: true},

		// excInfo: the app's own error page.
		{name: "excInfo before the headers replaces status and headers",
			app: func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("200 OK", []Header{textPlain}, nil)
				return func(yield func([]byte) bool) {
					startResponse("500 Oops", []Header{{"Content-Type", "text/html"}}, errors.New("caught"))
					yield([]byte("app-rendered error page\n"))
				}
			},
			want:      "HTTP/1.1 500 Oops\r\n" + dateServer + "Content-Type: text/html\r\nContent-Length: 24\r\n\r\napp-rendered error page\n",
			keepAlive: true},
		{name: "excInfo after the headers re-raises: the response is cut",
			app: func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("200 OK", []Header{textPlain}, nil)
				return func(yield func([]byte) bool) {
					if yield([]byte("already sent\n")) {
						startResponse("500 Oops", []Header{textPlain}, errors.New("late failure"))
						yield([]byte("never sent"))
					}
				}
			},
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
				"d\r\nalready sent\n\r\n",
			wantLog: "panic after the headers were sent; closing the connection: late failure\n"},

		// Panics before the headers become a 500.
		{name: "panic before start_response",
			app:     func(Environ, StartResponse) iter.Seq[[]byte] { panic("app failed before start_response") },
			want:    serverError,
			wantLog: "panic: app failed before start_response\n"},
		{name: "panic after start_response: the 500 replaces the 200",
			app:     yielding("200 OK", []Header{textPlain}, thenPanic("app failed before its body")),
			want:    serverError,
			wantLog: "panic: app failed before its body\n"},
		{name: "panic after an empty chunk is still a 500",
			app:     yielding("200 OK", []Header{textPlain}, thenPanic("app failed after an empty chunk", "")),
			want:    serverError,
			wantLog: "panic: app failed after an empty chunk\n"},
		{name: "second start_response without excInfo",
			app: func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("200 OK", []Header{textPlain}, nil)
				startResponse("201 Created", []Header{textPlain}, nil)
				return chunks("never sent")
			},
			want:    serverError,
			wantLog: "panic: start_response: headers already set; only a call with excInfo may replace them (PEP 3333)\n"},
		{name: "hop-by-hop header",
			app:     yielding("200 OK", []Header{textPlain, {"Connection", "close"}}, chunks("never sent")),
			want:    serverError,
			wantLog: "panic: start_response: hop-by-hop header \"Connection\" is not allowed (PEP 3333)\n"},
		{name: "refused headers stay refused when the app recovers",
			app: func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				catchPanic(func() { startResponse("200OK", []Header{textPlain}, nil) })
				return chunks("never sent")
			},
			want:    serverError,
			wantLog: "panic: start_response: its status and headers were refused; call it again with excInfo (PEP 3333)\n"},
		{name: "chunk before start_response",
			app:     func(Environ, StartResponse) iter.Seq[[]byte] { return chunks("too early") },
			want:    serverError,
			wantLog: "panic: write() before start_response()\n"},
		{name: "start_response never called",
			app:     func(Environ, StartResponse) iter.Seq[[]byte] { return chunks() },
			want:    serverError,
			wantLog: "panic: the application never called start_response()\n"},
		{name: "nil body",
			app: func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("200 OK", []Header{textPlain}, nil)
				return nil
			},
			want:    serverError,
			wantLog: "panic: the application returned a nil body; return an empty iter.Seq instead\n"},
		{name: "HEAD and a panic: the 500's headers only", method: "HEAD",
			app:     yielding("200 OK", []Header{textPlain}, thenPanic("boom")),
			want:    strings.TrimSuffix(serverError, errorBody),
			wantLog: "panic: boom\n"},

		// Panics after the headers cut the response short.
		{name: "panic after one chunk",
			app: yielding("200 OK", []Header{textPlain}, thenPanic("app failed after its first chunk", "partial body\n")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
				"d\r\npartial body\n\r\n",
			wantLog: "panic after the headers were sent; closing the connection: app failed after its first chunk\n"},
		{name: "panic after two chunks",
			app: yielding("200 OK", []Header{textPlain}, thenPanic("app failed after two chunks", "a", "b")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"1\r\na\r\n1\r\nb\r\n",
			wantLog: "panic after the headers were sent; closing the connection: app failed after two chunks\n"},
		{name: "panic after write()",
			app: writing("200 OK", []Header{textPlain, contentLength("20")}, "written\n", thenPanic("app failed after write()")),
			want: "HTTP/1.1 200 OK\r\n" + dateServer + "Content-Type: text/plain\r\nContent-Length: 20\r\n\r\n" +
				"written\n",
			wantLog: "panic after the headers were sent; closing the connection: app failed after write()\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wire bytes.Buffer
			keepAlive, log := serveTo(&wire, cmpOr(tt.method, "GET"), cmpOr(tt.proto, "HTTP/1.1"), tt.fields, tt.app)
			if diff := cmp.Diff(lines(tt.want), lines(wire.String())); diff != "" {
				t.Errorf("wire (-want +got):\n%s", diff)
			}
			if tt.wantLog == "" && log != "" || !strings.Contains(log, tt.wantLog) {
				t.Errorf("wsgi.errors got:\n%s\nwant it to contain %q", log, tt.wantLog)
			}
			if keepAlive != tt.keepAlive {
				t.Errorf("keepAlive = %v, want %v", keepAlive, tt.keepAlive)
			}
		})
	}
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// panicsMidBody is named so that the test can find it in the logged stack.
func panicsMidBody(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	startResponse("200 OK", []Header{textPlain}, nil)
	return func(yield func([]byte) bool) {
		panic("deep inside the body")
	}
}

// The body ran inside the server's range loop; the log must still show the
// app's line that panicked, not only the server's.
func TestPanicLogShowsTheAppsStack(t *testing.T) {
	_, log := serveTo(io.Discard, "GET", "HTTP/1.1", nil, panicsMidBody)
	for _, want := range []string{"panic: deep inside the body\n", "goroutine ", ".panicsMidBody.func1(", "response_test.go:"} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not contain %q:\n%s", want, log)
		}
	}
}

// Headers go out on the first non-empty chunk or write(), never inside
// start_response; the look-ahead holds the first chunk until the next one.
func TestWhenBytesLeave(t *testing.T) {
	var wire bytes.Buffer
	var seen []string // what the client had received at each step
	note := func(step string) {
		head, body, _ := strings.Cut(wire.String(), "\r\n\r\n")
		switch {
		case wire.Len() == 0:
			seen = append(seen, step+": nothing")
		default:
			seen = append(seen, step+": "+strings.SplitN(head, "\r\n", 2)[0]+" + body "+strings.ReplaceAll(body, "\r\n", "|"))
		}
	}
	app := func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write := startResponse("200 OK", []Header{textPlain}, nil)
		note("after start_response")
		return func(yield func([]byte) bool) {
			yield(nil)
			note("after an empty chunk")
			yield([]byte("a"))
			note("after the first chunk")
			yield([]byte("b"))
			note("after the second chunk")
			write([]byte("c"))
			note("after write() (an app should not, but it keeps the order)")
		}
	}
	serveTo(&wire, "GET", "HTTP/1.1", nil, app)
	want := []string{
		"after start_response: nothing",
		"after an empty chunk: nothing",
		"after the first chunk: nothing",
		"after the second chunk: HTTP/1.1 200 OK + body 1|a|1|b|",
		"after write() (an app should not, but it keeps the order): HTTP/1.1 200 OK + body 1|a|1|b|1|c|",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// brokenConn is a client that has gone away: every write fails.
type brokenConn struct{}

func (brokenConn) Write([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// trackedBody yields parts in order ("PANIC" panics instead) and records how
// it ended: Go's stand-in for a Python iterable's close().
func trackedBody(events *[]string, parts ...string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		defer func() { *events = append(*events, "cleanup ran") }()
		for _, p := range parts {
			if p == "PANIC" {
				panic("boom")
			}
			if !yield([]byte(p)) {
				*events = append(*events, "stopped by the server")
				return
			}
		}
	}
}

func TestBodyCleanupAlwaysRuns(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		conn    io.Writer
		headers []Header
		parts   []string
		want    []string
	}{
		{"normal end", "GET", io.Discard, nil, []string{"a", "b"}, []string{"cleanup ran"}},
		{"panic mid-body", "GET", io.Discard, nil, []string{"a", "b", "PANIC"}, []string{"cleanup ran"}},
		{"client gone", "GET", brokenConn{}, nil, []string{"a", "b", "c", "d"}, []string{"stopped by the server", "cleanup ran"}},
		{"HEAD needs no more than the headers", "HEAD", io.Discard, nil, []string{"a", "b", "c"}, []string{"stopped by the server", "cleanup ran"}},
		{"past the app's Content-Length", "GET", io.Discard, []Header{{"Content-Length", "2"}}, []string{"ab", "cd", "ef"}, []string{"stopped by the server", "cleanup ran"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []string
			app := yielding("200 OK", append([]Header{textPlain}, tt.headers...), trackedBody(&events, tt.parts...))
			serveTo(tt.conn, tt.method, "HTTP/1.1", nil, app)
			if diff := cmp.Diff(tt.want, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteAfterTheClientLeft(t *testing.T) {
	var errs []error
	app := func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write := startResponse("200 OK", []Header{textPlain}, nil)
		errs = append(errs, write([]byte("first")), write([]byte("second")))
		return chunks()
	}
	keepAlive, log := serveTo(brokenConn{}, "GET", "HTTP/1.1", nil, app)
	if len(errs) != 2 || errs[0] == nil || errs[1] == nil {
		t.Errorf("write() returned %v, want an error each time", errs)
	}
	if keepAlive || log != "" {
		t.Errorf("keepAlive = %v, log %q; want false and nothing logged (a client leaving is not an error)", keepAlive, log)
	}
}

func TestWriteAfterTheResponseEnded(t *testing.T) {
	var wire bytes.Buffer
	var write Write
	app := func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write = startResponse("200 OK", []Header{textPlain}, nil)
		return chunks("ok")
	}
	serveTo(&wire, "GET", "HTTP/1.1", nil, app)
	before := wire.String()
	if err := write([]byte("late")); err == nil || wire.String() != before {
		t.Errorf("late write() = %v and wire grew by %q; want an error and nothing sent", err, strings.TrimPrefix(wire.String(), before))
	}
}

// A request body that broke while the app read it (here a bad chunk size)
// is the client's error: it is answered instead of the app's response, as
// long as the app's headers have not gone out.
func TestBrokenRequestBodyIsAnswered(t *testing.T) {
	broken := &body{err: &statusError{Code: 400, Text: "chunk size must be hex digits"}}
	tests := []struct {
		name string
		app  App
	}{
		{"the app answers anyway", yielding("200 OK", []Header{textPlain}, chunks("what the app made of half a body"))},
		{"the app panics over the read error", yielding("200 OK", []Header{textPlain}, thenPanic("reading wsgi.input failed"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wire bytes.Buffer
			req := &Request{Method: "POST", Target: "/", Proto: "HTTP/1.1"}
			keepAlive := newResponse(bufio.NewWriter(&wire), req, broken, io.Discard, fixedNow).serve(tt.app, Environ{})
			want := "HTTP/1.1 400 Bad Request\r\n" + dateServer + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 30\r\nConnection: close\r\n\r\nchunk size must be hex digits\n"
			if diff := cmp.Diff(lines(want), lines(wire.String())); diff != "" || keepAlive {
				t.Errorf("keepAlive %v, wire (-want +got):\n%s", keepAlive, diff)
			}
		})
	}
}
