package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// reqWith is a Req as Handler makes it, over goodEnviron with changes.
func reqWith(changes Environ) *Req {
	environ := goodEnviron()
	for key, value := range changes {
		environ[key] = value
	}
	var req *Req
	Handler(func(r *Req) App { req = r; return PlainTextResponse("") })(environ, func(string, []Header, error) Write { return nil })
	return req
}

func TestReqReadsTheEnviron(t *testing.T) {
	req := reqWith(Environ{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/app", "PATH_INFO": "/caf\u00c3\u00a9", // é sent as UTF-8
		"QUERY_STRING":    "q=a+b&q=%C3%A9&bad=%zz&x=1",
		"HTTP_USER_AGENT": "curl/8.5.0", "CONTENT_TYPE": "text/plain",
		"HTTP_COOKIE":          `session=abc; theme="dark"; empty=`,
		"wsgiorg.routing_args": RoutingArgs{Named: map[string]string{"name": "world"}},
	})
	got := map[string]any{
		"Method": req.Method, "Path": req.Path, "Param(name)": req.Param("name"), "Param(none)": req.Param("none"),
		"Query":              map[string][]string(req.Query()),
		"Header(User-Agent)": req.Header("User-Agent"), "Header(user-agent)": req.Header("user-agent"),
		"Header(Content-Type)": req.Header("Content-Type"), "Header(Missing)": req.Header("Missing"),
	}
	for _, name := range []string{"session", "theme", "empty", "missing"} {
		value, ok := req.Cookie(name)
		got["Cookie("+name+")"] = []any{value, ok}
	}
	want := map[string]any{
		"Method": "POST", "Path": "/app/café", "Param(name)": "world", "Param(none)": "",
		"Query":              map[string][]string{"q": {"a b", "é"}, "x": {"1"}},
		"Header(User-Agent)": "curl/8.5.0", "Header(user-agent)": "curl/8.5.0",
		"Header(Content-Type)": "text/plain", "Header(Missing)": "",
		"Cookie(session)": []any{"abc", true}, "Cookie(theme)": []any{"dark", true},
		"Cookie(empty)": []any{"", true}, "Cookie(missing)": []any{"", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		maxBody                 int64
		wantCode                int    // 0: no error
		wantMessage             string // part of the error's message
		want                    any
	}{
		{"object", "application/json", `{"a": [1, 2.50]}`, 0, 0, "", map[string]any{"a": []any{json.Number("1"), json.Number("2.50")}}},
		{"charset parameter", "application/json; charset=utf-8", `"x"`, 0, 0, "", "x"},
		{"case-insensitive type", "Application/JSON", `true`, 0, 0, "", true},
		{"big number kept", "application/json", `12345678901234567890`, 0, 0, "", json.Number("12345678901234567890")},
		{"syntax error", "application/json", `{"a": 1,}`, 0, 400, "invalid character '}' looking for beginning of object key string", nil},
		{"cut short", "application/json", `{"a": `, 0, 400, "unexpected EOF", nil},
		{"empty", "application/json", ``, 0, 400, "The body is empty", nil},
		{"two values", "application/json", `{} {}`, 0, 400, "more after its JSON value", map[string]any{}}, // the first was decoded
		{"no content type", "", `{}`, 0, 415, "application/json", nil},
		{"form", "application/x-www-form-urlencoded", `a=b`, 0, 415, "application/json", nil},
		{"json-ish", "text/json", `{}`, 0, 415, "application/json", nil},
		{"over the limit by length", "application/json", `[1, 2, 3]`, 8, 413, "larger than 8 bytes", nil},
		{"at the limit", "application/json", `[1,2,3]`, 7, 0, "", []any{json.Number("1"), json.Number("2"), json.Number("3")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := Environ{"wsgi.input": strings.NewReader(tt.body), "CONTENT_LENGTH": "", "CONTENT_TYPE": tt.contentType}
			if tt.contentType == "" {
				delete(changes, "CONTENT_TYPE")
			}
			req := reqWith(changes)
			if tt.maxBody > 0 {
				req.MaxBody = tt.maxBody
			}
			var got any
			err := req.DecodeJSON(&got)
			var httpErr *HTTPError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("DecodeJSON: %v", err)
			case tt.wantCode != 0 && (!errors.As(err, &httpErr) || httpErr.Code != tt.wantCode || !strings.Contains(httpErr.Message, tt.wantMessage)):
				t.Fatalf("DecodeJSON: %v, want a %d saying %q", err, tt.wantCode, tt.wantMessage)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

// A body without a Content-Length (chunked) is cut at MaxBody+1 bytes: a
// client cannot make Body hold more than that.
func TestBodyLimitWithoutContentLength(t *testing.T) {
	input := strings.NewReader(strings.Repeat("x", 100))
	req := reqWith(Environ{"wsgi.input": input})
	req.MaxBody = 10
	if _, err := req.Body(); err == nil || !strings.Contains(err.Error(), "413") {
		t.Errorf("Body: %v, want a 413", err)
	}
	if read := 100 - input.Len(); read != 11 {
		t.Errorf("Body read %d bytes, want 11 (MaxBody+1)", read)
	}
}

func TestErrorResponseForEachError(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus string
		wantLog    string
	}{
		{&HTTPError{415, "no"}, "415 Unsupported Media Type", ""},
		{refuse(400, "chunk size must be hex digits"), "400 Bad Request", ""},
		{errors.New("database down"), "500 Internal Server Error", "error: database down\n"},
	}
	for _, tt := range tests {
		status, _, body, log, _ := callApp(ErrorResponse(tt.err), goodEnviron())
		if status != tt.wantStatus || log != tt.wantLog || strings.Contains(string(body), "database") {
			t.Errorf("ErrorResponse(%v) = %q %q, logged %q; want %q, logged %q, no error text on the page",
				tt.err, status, body, log, tt.wantStatus, tt.wantLog)
		}
	}
}
