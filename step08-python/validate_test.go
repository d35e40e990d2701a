package main

import (
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goodEnviron is an environ that keeps every rule, for a GET of "/".
func goodEnviron() Environ {
	return Environ{
		"REQUEST_METHOD":    "GET",
		"SCRIPT_NAME":       "",
		"PATH_INFO":         "/",
		"QUERY_STRING":      "",
		"SERVER_NAME":       "127.0.0.1",
		"SERVER_PORT":       "8081",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"HTTP_HOST":         "127.0.0.1:8081",
		"wsgi.version":      [2]int{1, 0},
		"wsgi.url_scheme":   "http",
		"wsgi.input":        strings.NewReader(""),
		"wsgi.errors":       &strings.Builder{},
		"wsgi.multithread":  true,
		"wsgi.multiprocess": false,
		"wsgi.run_once":     false,
	}
}

// callApp plays the server: it calls app, records what start_response and
// write receive, ranges over the body and recovers a panic. warnings is what
// reached the environ's wsgi.errors (when it is a *strings.Builder).
func callApp(app App, environ Environ) (status string, headers []Header, body []byte, warnings string, panicValue any) {
	wsgiErrors, _ := environ["wsgi.errors"].(*strings.Builder)
	defer func() {
		panicValue = recover()
		if wsgiErrors != nil {
			warnings = wsgiErrors.String()
		}
	}()
	startResponse := func(s string, h []Header, excInfo error) Write {
		status, headers = s, h
		return func(data []byte) error {
			body = append(body, data...)
			return nil
		}
	}
	for chunk := range app(environ, startResponse) {
		body = append(body, chunk...)
	}
	return status, headers, body, warnings, nil
}

var textPlain = Header{"Content-Type", "text/plain"}

// chunks is a body that yields each string as one chunk.
func chunks(parts ...string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, p := range parts {
			if !yield([]byte(p)) {
				return
			}
		}
	}
}

// respond is an app that calls start_response(status, headers) and says "ok".
func respond(status string, headers ...Header) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		startResponse(status, headers, nil)
		return chunks("ok")
	}
}

func TestValidatorReportsBrokenRules(t *testing.T) {
	set := func(key string, value any) func(Environ) {
		return func(e Environ) { e[key] = value }
	}
	remove := func(key string) func(Environ) {
		return func(e Environ) { delete(e, key) }
	}
	tooEarly := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		return chunks("too early")
	}
	neverStarts := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		return chunks()
	}
	const startResponseMissing = "The application returns and we started iterating over its body, but start_response has not yet been called"

	tests := []struct {
		name      string
		env       func(Environ) // breaks the environ; nil leaves it good
		app       App           // nil means respond("200 OK", textPlain)
		wantPanic string        // the *ContractError message; "" for a warning
		wantWarn  string        // the WSGIWarning message; the request still succeeds
	}{
		// The environ (the server's side).
		{name: "missing REQUEST_METHOD", env: remove("REQUEST_METHOD"),
			wantPanic: "Environment missing required key: 'REQUEST_METHOD'"},
		{name: "missing SERVER_PORT", env: remove("SERVER_PORT"),
			wantPanic: "Environment missing required key: 'SERVER_PORT'"},
		{name: "missing wsgi.run_once", env: remove("wsgi.run_once"),
			wantPanic: "Environment missing required key: 'wsgi.run_once'"},
		{name: "HTTP_CONTENT_TYPE present", env: set("HTTP_CONTENT_TYPE", "text/plain"),
			wantPanic: "Environment should not have the key: HTTP_CONTENT_TYPE (use CONTENT_TYPE instead)"},
		{name: "HTTP_CONTENT_LENGTH present", env: set("HTTP_CONTENT_LENGTH", "0"),
			wantPanic: "Environment should not have the key: HTTP_CONTENT_LENGTH (use CONTENT_LENGTH instead)"},
		{name: "QUERY_STRING missing is a warning", env: remove("QUERY_STRING"),
			wantWarn: "QUERY_STRING is not in the WSGI environment; the cgi module will use sys.argv when this variable is missing, so application errors are more likely"},
		{name: "CGI variable not a string", env: set("SERVER_PORT", 8081),
			wantPanic: "Environmental variable SERVER_PORT is not a string: int (value: 8081)"},
		{name: "wsgi.version not a [2]int", env: set("wsgi.version", []int{1, 0}),
			wantPanic: "wsgi.version should be a [2]int ([]int{1, 0})"},
		{name: "wsgi.url_scheme ftp", env: set("wsgi.url_scheme", "ftp"),
			wantPanic: "wsgi.url_scheme unknown: 'ftp'"},
		{name: "wsgi.url_scheme missing", env: remove("wsgi.url_scheme"),
			wantPanic: "wsgi.url_scheme unknown: <nil>"},
		{name: "wsgi.input not a reader", env: set("wsgi.input", "body"),
			wantPanic: "wsgi.input (string) doesn't have the method Read"},
		{name: "wsgi.errors not a writer", env: set("wsgi.errors", strings.NewReader("")),
			wantPanic: "wsgi.errors (*strings.Reader) doesn't have the method Write"},
		{name: "unknown REQUEST_METHOD is a warning", env: set("REQUEST_METHOD", "BREW"),
			wantWarn: "Unknown REQUEST_METHOD: 'BREW'"},
		{name: "SCRIPT_NAME without leading slash", env: set("SCRIPT_NAME", "app"),
			wantPanic: "SCRIPT_NAME doesn't start with /: 'app'"},
		{name: "PATH_INFO without leading slash", env: set("PATH_INFO", "x"),
			wantPanic: "PATH_INFO doesn't start with /: 'x'"},
		{name: "CONTENT_LENGTH negative", env: set("CONTENT_LENGTH", "-1"),
			wantPanic: "Invalid CONTENT_LENGTH: '-1'"},
		{name: "CONTENT_LENGTH not a number", env: set("CONTENT_LENGTH", "abc"),
			wantPanic: "Invalid CONTENT_LENGTH: 'abc'"},
		{name: "neither SCRIPT_NAME nor PATH_INFO", env: remove("PATH_INFO"),
			wantPanic: "One of SCRIPT_NAME or PATH_INFO are required (PATH_INFO should at least be '/' if SCRIPT_NAME is empty)"},
		{name: "SCRIPT_NAME is a lone slash",
			env:       func(e Environ) { e["SCRIPT_NAME"], e["PATH_INFO"] = "/", "" },
			wantPanic: "SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'"},

		// The app's return value.
		{name: "app returns nil",
			app:       func(Environ, StartResponse) iter.Seq[[]byte] { return nil },
			wantPanic: "The application must return an iterator, if only an empty list"},

		// The status line.
		{name: "status code too short", app: respond("20 OK", textPlain),
			wantPanic: "Status codes must be three characters: '20'"},
		{name: "status code glued to reason", app: respond("200OK", textPlain),
			wantPanic: "Status codes must be three characters: '200OK'"},
		{name: "status code not a number", app: respond("abc OK", textPlain),
			wantPanic: "Status code is invalid: 'abc'"},
		{name: "status code below 100", app: respond("099 X", textPlain),
			wantPanic: "Status code is invalid: 99"},
		{name: "status without reason is a warning", app: respond("200", textPlain),
			wantWarn: "The status string ('200') should be a three-digit integer followed by a single space and a status explanation"},
		{name: "status with tab is a warning", app: respond("200\tOK", textPlain),
			wantWarn: `The status string ('200\tOK') should be a three-digit integer followed by a single space and a status explanation`},

		// The headers.
		{name: "Status header", app: respond("200 OK", textPlain, Header{"status", "200 OK"}),
			wantPanic: "The Status header cannot be used; it conflicts with CGI script, and HTTP status is not given through headers (value: '200 OK')."},
		{name: "header name with colon", app: respond("200 OK", textPlain, Header{"X:Y", "1"}),
			wantPanic: `Header names may not contain ':' or '\n': 'X:Y'`},
		{name: "header name with newline", app: respond("200 OK", textPlain, Header{"X\nY", "1"}),
			wantPanic: `Header names may not contain ':' or '\n': 'X\nY'`},
		{name: "header name with space", app: respond("200 OK", textPlain, Header{"X Y", "1"}),
			wantPanic: "Bad header name: 'X Y'"},
		{name: "header name starts with digit", app: respond("200 OK", textPlain, Header{"1X", "1"}),
			wantPanic: "Bad header name: '1X'"},
		{name: "header name empty", app: respond("200 OK", textPlain, Header{"", "1"}),
			wantPanic: "Bad header name: ''"},
		{name: "header name ends with dash", app: respond("200 OK", textPlain, Header{"X-", "1"}),
			wantPanic: "Names may not end in '-' or '_': 'X-'"},
		{name: "header name ends with underscore", app: respond("200 OK", textPlain, Header{"X_", "1"}),
			wantPanic: "Names may not end in '-' or '_': 'X_'"},
		{name: "header value with newline", app: respond("200 OK", textPlain, Header{"X", "a\nb"}),
			wantPanic: `Bad header value: 'a\nb' (bad char: '\n')`},
		{name: "header value with tab", app: respond("200 OK", textPlain, Header{"X", "a\tb"}),
			wantPanic: `Bad header value: 'a\tb' (bad char: '\t')`},
		{name: "header value with NUL, quoted like Python", app: respond("200 OK", textPlain, Header{"X", "it's\x00"}),
			wantPanic: `Bad header value: "it's\x00" (bad char: '\x00')`},
		{name: "no Content-Type on 200", app: respond("200 OK"),
			wantPanic: "No Content-Type header found in headers ([])"},
		{name: "no Content-Type among other headers", app: respond("200 OK", Header{"Content-Length", "2"}),
			wantPanic: "No Content-Type header found in headers ([('Content-Length', '2')])"},
		{name: "Content-Type on 204", app: respond("204 No Content", textPlain),
			wantPanic: "Content-Type header found in a 204 response, which must not return content."},
		{name: "Content-Type on 304", app: respond("304 Not Modified", Header{"content-type", "text/html"}),
			wantPanic: "Content-Type header found in a 304 response, which must not return content."},

		// The body.
		{name: "body yields before start_response", app: tooEarly, wantPanic: startResponseMissing},
		{name: "empty body and no start_response", app: neverStarts, wantPanic: startResponseMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := goodEnviron()
			if tt.env != nil {
				tt.env(environ)
			}
			app := tt.app
			if app == nil {
				app = respond("200 OK", textPlain)
			}
			_, _, body, warnings, panicValue := callApp(Validator(app), environ)

			if tt.wantPanic != "" {
				err, ok := panicValue.(*ContractError)
				if !ok {
					t.Fatalf("panic value = %#v, want a *ContractError", panicValue)
				}
				if err.Message != tt.wantPanic {
					t.Errorf("message:\n got %s\nwant %s", err.Message, tt.wantPanic)
				}
				if warnings != "" {
					t.Errorf("unexpected warnings: %q", warnings)
				}
				return
			}
			if panicValue != nil {
				t.Fatalf("a warning must not stop the request, got panic %v", panicValue)
			}
			if want := "WSGIWarning: " + tt.wantWarn + "\n"; warnings != want {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, want)
			}
			if string(body) != "ok" {
				t.Errorf("body = %q, want %q", body, "ok")
			}
		})
	}
}

func TestValidatorPassesGoodAppsThrough(t *testing.T) {
	type response struct {
		Status  string
		Headers []Header
		Body    string
	}
	tests := []struct {
		name    string
		environ func(Environ) // nil keeps goodEnviron
		app     App
		want    response
	}{
		{
			name: "one chunk",
			app:  respond("200 OK", textPlain),
			want: response{"200 OK", []Header{textPlain}, "ok"},
		},
		{
			name: "several chunks",
			app: func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("200 OK", []Header{textPlain, {"X-Trace", "1"}}, nil)
				return chunks("a", "", "b", "c")
			},
			want: response{"200 OK", []Header{textPlain, {"X-Trace", "1"}}, "abc"},
		},
		{
			name: "write() then chunks",
			app: func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				write := startResponse("201 Created", []Header{textPlain}, nil)
				if err := write([]byte("written ")); err != nil {
					panic(err)
				}
				return chunks("then ", "yielded")
			},
			want: response{"201 Created", []Header{textPlain}, "written then yielded"},
		},
		{
			name: "start_response called inside the body",
			app: func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				return func(yield func([]byte) bool) {
					startResponse("200 OK", []Header{textPlain}, nil)
					yield([]byte("late"))
				}
			},
			want: response{"200 OK", []Header{textPlain}, "late"},
		},
		{
			name: "204 without Content-Type",
			app: func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("204 No Content", nil, nil)
				return chunks()
			},
			want: response{Status: "204 No Content"},
		},
		{
			name: "304 without Content-Type",
			app: func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				startResponse("304 Not Modified", []Header{{"ETag", `"v1"`}}, nil)
				return chunks()
			},
			want: response{"304 Not Modified", []Header{{"ETag", `"v1"`}}, ""},
		},
		{
			name: "POST that echoes wsgi.input",
			environ: func(e Environ) {
				e["REQUEST_METHOD"], e["CONTENT_LENGTH"] = "POST", "5"
				e["wsgi.input"] = strings.NewReader("hello")
			},
			app: func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				data, err := io.ReadAll(environ["wsgi.input"].(io.Reader))
				if err != nil {
					panic(err)
				}
				startResponse("200 OK", []Header{{"Content-Type", "application/octet-stream"}}, nil)
				return chunks(string(data))
			},
			want: response{"200 OK", []Header{{"Content-Type", "application/octet-stream"}}, "hello"},
		},
		{
			name:    "mounted under SCRIPT_NAME with empty PATH_INFO",
			environ: func(e Environ) { e["SCRIPT_NAME"], e["PATH_INFO"] = "/app", "" },
			app:     respond("200 OK", textPlain),
			want:    response{"200 OK", []Header{textPlain}, "ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := goodEnviron()
			if tt.environ != nil {
				tt.environ(environ)
			}
			status, headers, body, warnings, panicValue := callApp(Validator(tt.app), environ)
			if panicValue != nil {
				t.Fatalf("unexpected panic: %v", panicValue)
			}
			if warnings != "" {
				t.Errorf("unexpected warnings: %q", warnings)
			}
			got := response{status, headers, string(body)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response changed by the validator (-want +got):\n%s", diff)
			}
		})
	}
}

// catchPanic runs f and returns what it panicked with, or nil.
func catchPanic(f func()) (panicValue any) {
	defer func() { panicValue = recover() }()
	f()
	return nil
}

// contractMessage is the message of a *ContractError panic value, or a
// description of whatever else it was.
func contractMessage(panicValue any) string {
	if err, ok := panicValue.(*ContractError); ok {
		return err.Message
	}
	if panicValue == nil {
		return "no panic"
	}
	return "not a *ContractError"
}

func TestValidatorReportsBrokenServers(t *testing.T) {
	app := Validator(respond("200 OK", textPlain))
	recordOnly := func(string, []Header, error) Write { return func([]byte) error { return nil } }

	tests := []struct {
		name  string
		serve func() // plays a server that breaks a rule
		want  string
	}{
		{
			name:  "nil start_response",
			serve: func() { app(goodEnviron(), nil) },
			want:  "The server passed a nil start_response",
		},
		{
			name: "start_response returns nil Write",
			serve: func() {
				app(goodEnviron(), func(string, []Header, error) Write { return nil })
			},
			want: "The server's start_response returned a nil write callable",
		},
		{
			name: "body ranged twice",
			serve: func() {
				body := app(goodEnviron(), recordOnly)
				for range body {
				}
				for range body {
				}
			},
			want: "Iterator read after closed",
		},
		{
			name: "body ranged again after a break",
			serve: func() {
				body := Validator(func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
					startResponse("200 OK", []Header{textPlain}, nil)
					return chunks("a", "b")
				})(goodEnviron(), recordOnly)
				for range body {
					break
				}
				for range body {
				}
			},
			want: "Iterator read after closed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contractMessage(catchPanic(tt.serve)); got != tt.want {
				t.Errorf("message:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// closer adds a Close method, so the test can see the validator hide it.
type closer struct{ io.Writer }

func (closer) Close() error { return nil }

func TestValidatorHidesCloseOnStreams(t *testing.T) {
	var log strings.Builder
	environ := goodEnviron()
	environ["wsgi.input"] = io.NopCloser(strings.NewReader("body"))
	environ["wsgi.errors"] = closer{&log}

	var inputCloser, errorsCloser bool
	app := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		_, inputCloser = environ["wsgi.input"].(io.Closer)
		_, errorsCloser = environ["wsgi.errors"].(io.Closer)
		data, _ := io.ReadAll(environ["wsgi.input"].(io.Reader))
		io.WriteString(environ["wsgi.errors"].(io.Writer), "app read "+string(data)+"\n")
		startResponse("200 OK", []Header{textPlain}, nil)
		return chunks()
	}
	if _, _, _, _, panicValue := callApp(Validator(app), environ); panicValue != nil {
		t.Fatalf("unexpected panic: %v", panicValue)
	}
	if inputCloser || errorsCloser {
		t.Errorf("the app could close a stream: wsgi.input %v, wsgi.errors %v", inputCloser, errorsCloser)
	}
	if got, want := log.String(), "app read body\n"; got != want {
		t.Errorf("wsgi.errors got %q, want %q", got, want)
	}
}
