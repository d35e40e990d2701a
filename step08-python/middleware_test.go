package main

import (
	"bufio"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResponsesAreApps(t *testing.T) {
	tests := []struct {
		name        string
		app         App
		environ     Environ
		wantStatus  string
		wantHeaders []Header
		wantBody    string
	}{
		{"plain text", PlainTextResponse("héllo"), nil, "200 OK",
			[]Header{{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "len"}}, "héllo"},
		{"HTML", HTMLResponse("<p>x</p>"), nil, "200 OK",
			[]Header{{"Content-Type", "text/html; charset=utf-8"}, {"Content-Length", "len"}}, "<p>x</p>"},
		{"JSON", JSONResponse(map[string]any{"b": 1, "a": "<&>"}), nil, "200 OK",
			[]Header{{"Content-Type", "application/json"}, {"Content-Length", "len"}}, `{"a":"\u003c\u0026\u003e","b":1}`},
		{"status and header", PlainTextResponse("made").WithStatus(201).WithHeader("Location", "/things/1"), nil, "201 Created",
			[]Header{{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "len"}, {"Location", "/things/1"}}, "made"},
		{"redirect", Redirect(303, "/done"), Environ{"SCRIPT_NAME": ""}, "303 See Other",
			[]Header{{"Location", "/done"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "len"}}, "Redirecting to /done\n"},
		{"redirect in a mounted app", Redirect(307, "/done"), Environ{"SCRIPT_NAME": "/my app"}, "307 Temporary Redirect",
			[]Header{{"Location", "/my%20app/done"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "len"}}, "Redirecting to /my%20app/done\n"},
		{"redirect elsewhere", Redirect(302, "https://example.com/"), Environ{"SCRIPT_NAME": "/app"}, "302 Found",
			[]Header{{"Location", "https://example.com/"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", "len"}}, "Redirecting to https://example.com/\n"},
		{"error page, JSON", ErrorPage(404, `no "x"`), Environ{"HTTP_ACCEPT": "application/json"}, "404 Not Found",
			[]Header{{"Content-Type", "application/json"}, {"Content-Length", "len"}}, `{"status":404,"error":"Not Found","message":"no \"x\""}` + "\n"},
		{"error page, HTML escaped", ErrorPage(404, "<script>"), Environ{"HTTP_ACCEPT": "text/html,application/json"}, "404 Not Found",
			[]Header{{"Content-Type", "text/html; charset=utf-8"}, {"Content-Length", "len"}},
			"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>404 Not Found</title></head>\n<body><h1>404 Not Found</h1>\n<p>&lt;script&gt;</p>\n</body></html>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := goodEnviron()
			for key, value := range tt.environ {
				environ[key] = value
			}
			// Content-Length is the length of the body checked with it.
			want := slices.Clone(tt.wantHeaders)
			for i := range want {
				if want[i].Value == "len" {
					want[i].Value = strconv.Itoa(len(tt.wantBody))
				}
			}
			// Twice: a response made once answers every request alike.
			for range 2 {
				status, headers, body, _, p := callApp(tt.app, environ)
				if p != nil {
					t.Fatalf("panic: %v", p)
				}
				if diff := cmp.Diff([]any{tt.wantStatus, want, tt.wantBody}, []any{status, headers, string(body)}); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestJSONResponsePanicsOnWhatItCannotEncode(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(error).Error(), "JSONResponse: json: unsupported type") {
			t.Errorf("panic %v, want JSONResponse's", p)
		}
	}()
	JSONResponse(make(chan int))
}

func TestOtherSlashNeverLeavesTheSite(t *testing.T) {
	for path, want := range map[string]string{"/a/": "/a", "/a": "/a/", "//": "/", "//evil.example/": "", "/": ""} {
		got, ok := otherSlash(path)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("otherSlash(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// panicky fails where its path says: in the call, in the body before a
// chunk, or after one.
func panicky(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	startResponse("200 OK", []Header{textPlain}, nil)
	switch environ["PATH_INFO"] {
	case "/call":
		panic("in the call")
	case "/after":
		return thenPanic("after a chunk", "half")
	}
	return thenPanic("in the body")
}

func TestRecoverAnswers500(t *testing.T) {
	for _, tt := range []struct {
		path, accept string
		debug        bool
		wantType     string
		wantInBody   []string
		notInBody    string
	}{
		{"/call", "", false, "text/html; charset=utf-8", []string{"<h1>500 Internal Server Error</h1>"}, "in the call"},
		{"/body", "application/json", false, "application/json", []string{`"status":500`}, "in the body"},
		{"/call", "", true, "text/html; charset=utf-8", []string{"<pre>panic: in the call\n\ngoroutine ", "step08-python.panicky("}, ""},
		{"/body", "application/json", true, "application/json", []string{`"detail":"panic: in the body\n\ngoroutine `, "thenPanic"}, ""},
	} {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			environ := goodEnviron()
			environ["PATH_INFO"], environ["HTTP_ACCEPT"] = tt.path, tt.accept
			status, headers, body, log, p := callApp(Recover(tt.debug)(panicky), environ)
			if p != nil || status != "500 Internal Server Error" || !containsHeader(headers, Header{"Content-Type", tt.wantType}) {
				t.Fatalf("got %q %q, panic %v; want a 500 as %s", status, headers, p, tt.wantType)
			}
			for _, want := range tt.wantInBody {
				if !strings.Contains(string(body), want) {
					t.Errorf("body %q does not contain %q", body, want)
				}
			}
			if tt.notInBody != "" && strings.Contains(string(body), tt.notInBody) {
				t.Errorf("body %q shows the panic without debug", body)
			}
			if !strings.HasPrefix(log, "panic: in the ") || !strings.Contains(log, ".panicky") {
				t.Errorf("wsgi.errors got %q, want the panic and its stack", log)
			}
		})
	}
}

// After a chunk has gone out Recover cannot help: start_response refuses
// excInfo, and the panic reaches the server, which cuts the connection.
func TestRecoverAfterTheHeadersLetsTheServerCut(t *testing.T) {
	var wire strings.Builder
	_, log := serveTo(&wire, "GET", "HTTP/1.1", nil, func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		environ["PATH_INFO"] = "/after"
		environ["wsgi.errors"] = &strings.Builder{}
		return Recover(false)(panicky)(environ, startResponse)
	})
	if !strings.HasPrefix(wire.String(), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(wire.String(), "4\r\nhalf\r\n") {
		t.Errorf("wire %q, want the 200 and its first chunk, no end", wire.String())
	}
	if !strings.Contains(log, "panic after the headers were sent; closing the connection: panic: after a chunk") {
		t.Errorf("server log %q, want the cut", log)
	}
}

// A panic raised by the server inside Recover's yield (here a broken
// request body noticed when the headers go out) is not Recover's: the
// server answers it, with the client's 400.
func TestRecoverLeavesTheServersPanics(t *testing.T) {
	var wire strings.Builder
	input := &body{err: refuse(400, "chunk size must be hex digits")}
	req := &Request{Method: "POST", Target: "/", Proto: "HTTP/1.1"}
	environ := goodEnviron()
	app := Recover(false)(PlainTextResponse("fine"))
	newResponse(bufio.NewWriter(&wire), req, input, &strings.Builder{}, fixedNow).serve(app, environ)
	if !strings.HasPrefix(wire.String(), "HTTP/1.1 400 Bad Request\r\n") {
		t.Errorf("wire %q, want the server's 400", wire.String())
	}
}

func TestRequestID(t *testing.T) {
	newID := func() string { return "new" }
	for sent, want := range map[string]string{
		"":                      "new",
		"abc-123_x.y":           "abc-123_x.y",
		"has space":             "new",
		"a\u00e9":               "new",
		strings.Repeat("a", 64): strings.Repeat("a", 64),
		strings.Repeat("a", 65): "new",
		"<script>":              "new",
	} {
		environ := goodEnviron()
		if sent != "" {
			environ["HTTP_X_REQUEST_ID"] = sent
		}
		_, headers, _, _, _ := callApp(RequestID(newID)(respond("200 OK", textPlain)), environ)
		if !containsHeader(headers, Header{"X-Request-Id", want}) || environ["request.id"] != want {
			t.Errorf("sent %q: headers %q, environ %q; want id %q", sent, headers, environ["request.id"], want)
		}
	}
	if a, b := randomID(), randomID(); a == b || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(a) {
		t.Errorf("randomID gave %q and %q, want two different 16-hex-digit ids", a, b)
	}
}

func TestUseOrder(t *testing.T) {
	var order []string
	mark := func(name string) Middleware {
		return func(next App) App {
			return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
				order = append(order, name)
				return next(environ, startResponse)
			}
		}
	}
	callApp(Use(respond("200 OK", textPlain), mark("A"), mark("B"), mark("C")), goodEnviron())
	if diff := cmp.Diff([]string{"A", "B", "C"}, order); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAccessLogLine(t *testing.T) {
	var log strings.Builder
	app := AccessLog(&log)(func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write := startResponse("404 Not Found", []Header{textPlain}, nil)
		write([]byte("12345"))
		return chunks("678", "90")
	})
	environ := goodEnviron()
	environ["REMOTE_ADDR"], environ["REQUEST_METHOD"] = "10.0.0.7", "POST"
	environ["SCRIPT_NAME"], environ["PATH_INFO"] = "/app", "/caf\u00c3\u00a9\n\"x\""
	callApp(app, environ)
	pattern := `^10\.0\.0\.7 POST "/app/café\\n\\"x\\"" 404 10 \d+µs\n$`
	if !regexp.MustCompile(pattern).MatchString(log.String()) {
		t.Errorf("log line %q, want it to match %s", log.String(), pattern)
	}
}
