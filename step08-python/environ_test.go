package main

import (
	"bytes"
	"errors"
	"maps"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	testLocal  = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8004}
	testRemote = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 54321}
)

// omitted, as a value in environWith's changes, means "this key must be absent".
type omitted struct{}

// environWith is the environ of "GET / HTTP/1.1" with "Host: example.com",
// received on 127.0.0.1:8004 from 192.0.2.7, with changes applied.
func environWith(changes Environ) Environ {
	env := Environ{
		"REQUEST_METHOD":    "GET",
		"SCRIPT_NAME":       "",
		"PATH_INFO":         "/",
		"QUERY_STRING":      "",
		"SERVER_NAME":       "example.com",
		"SERVER_PORT":       "8004",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"REMOTE_ADDR":       "192.0.2.7",
		"GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_SOFTWARE":   "step08-python",
		"HTTP_HOST":         "example.com",
		"wsgi.version":      [2]int{1, 0},
		"wsgi.url_scheme":   "http",
		"wsgi.multithread":  true,
		"wsgi.multiprocess": false,
		"wsgi.run_once":     false,
	}
	maps.Copy(env, changes)
	maps.DeleteFunc(env, func(_ string, v any) bool { return v == omitted{} })
	return env
}

// getRequest is "GET target HTTP/1.1" with "Host: example.com" and then fields.
func getRequest(target string, fields ...Field) *Request {
	return &Request{
		Method: "GET", Target: target, Proto: "HTTP/1.1",
		Fields: append([]Field{{"Host", "example.com"}}, fields...),
	}
}

// ignoreStreams leaves wsgi.input and wsgi.errors to TestBuildEnvironStreams.
var ignoreStreams = cmpopts.IgnoreMapEntries(func(key string, _ any) bool {
	return key == "wsgi.input" || key == "wsgi.errors"
})

func TestBuildEnviron(t *testing.T) {
	tests := []struct {
		name          string
		req           *Request
		local, remote net.Addr // testLocal, testRemote when nil
		want          Environ
	}{
		// The request line.
		{"plain GET", getRequest("/"), nil, nil, environWith(nil)},
		{"method kept as sent", &Request{Method: "BREW", Target: "/pot", Proto: "HTTP/1.1", Fields: []Field{{"Host", "example.com"}}}, nil, nil,
			environWith(Environ{"REQUEST_METHOD": "BREW", "PATH_INFO": "/pot"})},
		{"query split at the first ?", getRequest("/search?q=a?b&x=1"), nil, nil,
			environWith(Environ{"PATH_INFO": "/search", "QUERY_STRING": "q=a?b&x=1"})},
		{"empty query after ?", getRequest("/p?"), nil, nil, environWith(Environ{"PATH_INFO": "/p"})},
		{"query stays encoded", getRequest("/p?q=caf%C3%A9&r=a+b"), nil, nil,
			environWith(Environ{"PATH_INFO": "/p", "QUERY_STRING": "q=caf%C3%A9&r=a+b"})},

		// PATH_INFO is percent-decoded, one rune per byte.
		{"%20 becomes a space", getRequest("/a%20b"), nil, nil, environWith(Environ{"PATH_INFO": "/a b"})},
		{"%2F becomes a slash", getRequest("/x%2Fy"), nil, nil, environWith(Environ{"PATH_INFO": "/x/y"})},
		{"UTF-8 escapes give one rune per byte", getRequest("/caf%C3%A9"), nil, nil,
			environWith(Environ{"PATH_INFO": "/caf\u00c3\u00a9"})},
		{"lower-case hex digits", getRequest("/%c3%a9"), nil, nil, environWith(Environ{"PATH_INFO": "/\u00c3\u00a9"})},
		{"%FF is U+00FF", getRequest("/%FF"), nil, nil, environWith(Environ{"PATH_INFO": "/\u00ff"})},
		{"%00 becomes NUL", getRequest("/nul%00"), nil, nil, environWith(Environ{"PATH_INFO": "/nul\x00"})},
		{"plus stays plus", getRequest("/a+b"), nil, nil, environWith(Environ{"PATH_INFO": "/a+b"})},
		{"invalid escapes stay literal", getRequest("/%zz/%4/%"), nil, nil, environWith(Environ{"PATH_INFO": "/%zz/%4/%"})},
		{"percent before an escape", getRequest("/%%41"), nil, nil, environWith(Environ{"PATH_INFO": "/%A"})},
		{"double slash kept", getRequest("//double//slash"), nil, nil, environWith(Environ{"PATH_INFO": "//double//slash"})},

		// Other target forms (RFC 9112 §3.2).
		{"absolute-form gives path and query", getRequest("http://example.com:8080/abs/path?q=1"), nil, nil,
			environWith(Environ{"PATH_INFO": "/abs/path", "QUERY_STRING": "q=1"})},
		{"absolute-form authority names the server, HTTP_HOST stays", &Request{Method: "GET", Target: "http://target.example/p", Proto: "HTTP/1.1", Fields: []Field{{"Host", "other.example"}}}, nil, nil,
			environWith(Environ{"PATH_INFO": "/p", "SERVER_NAME": "target.example", "HTTP_HOST": "other.example"})},
		{"absolute-form without a path", getRequest("HTTP://example.com?q=1"), nil, nil,
			environWith(Environ{"QUERY_STRING": "q=1"})},
		{"absolute-form https keeps url_scheme http", getRequest("https://example.com/s"), nil, nil,
			environWith(Environ{"PATH_INFO": "/s"})},
		{"asterisk-form", &Request{Method: "OPTIONS", Target: "*", Proto: "HTTP/1.1", Fields: []Field{{"Host", "example.com"}}}, nil, nil,
			environWith(Environ{"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "*"})},

		// SERVER_NAME, SERVER_PORT, REMOTE_ADDR.
		{"Host port not in SERVER_NAME", &Request{Method: "GET", Target: "/", Proto: "HTTP/1.1", Fields: []Field{{"Host", "example.com:8080"}}}, nil, nil,
			environWith(Environ{"HTTP_HOST": "example.com:8080"})},
		{"IPv6 Host keeps brackets", &Request{Method: "GET", Target: "/", Proto: "HTTP/1.1", Fields: []Field{{"Host", "[2001:db8::1]:8080"}}}, nil, nil,
			environWith(Environ{"SERVER_NAME": "[2001:db8::1]", "HTTP_HOST": "[2001:db8::1]:8080"})},
		{"no Host: SERVER_NAME is the local IP", &Request{Method: "GET", Target: "/legacy", Proto: "HTTP/1.0"}, nil, nil,
			environWith(Environ{"PATH_INFO": "/legacy", "SERVER_PROTOCOL": "HTTP/1.0", "SERVER_NAME": "127.0.0.1", "HTTP_HOST": omitted{}})},
		{"empty Host: SERVER_NAME is the local IP", &Request{Method: "GET", Target: "/", Proto: "HTTP/1.1", Fields: []Field{{"Host", ""}}}, nil, nil,
			environWith(Environ{"SERVER_NAME": "127.0.0.1", "HTTP_HOST": ""})},
		{"IPv6 addresses", &Request{Method: "GET", Target: "/", Proto: "HTTP/1.0"},
			&net.TCPAddr{IP: net.IPv6loopback, Port: 9000}, &net.TCPAddr{IP: net.IPv6loopback, Port: 5555},
			environWith(Environ{"SERVER_PROTOCOL": "HTTP/1.0", "SERVER_NAME": "[::1]", "SERVER_PORT": "9000", "REMOTE_ADDR": "::1", "HTTP_HOST": omitted{}})},

		// CONTENT_TYPE and CONTENT_LENGTH.
		{"Content-Type and Content-Length without HTTP_", &Request{Method: "POST", Target: "/submit", Proto: "HTTP/1.1", Fields: []Field{
			{"Host", "example.com"}, {"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "11"}}}, nil, nil,
			environWith(Environ{"REQUEST_METHOD": "POST", "PATH_INFO": "/submit",
				"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "11"})},
		{"Content-Length: 0 is kept", getRequest("/", Field{"content-length", "0"}), nil, nil,
			environWith(Environ{"CONTENT_LENGTH": "0"})},
		{"Content-Length as a list: CONTENT_LENGTH is the number", getRequest("/", Field{"Content-Length", "5, 5"}), nil, nil,
			environWith(Environ{"CONTENT_LENGTH": "5"})},
		{"chunked: no CONTENT_LENGTH", getRequest("/", Field{"Transfer-Encoding", "chunked"}), nil, nil,
			environWith(Environ{"HTTP_TRANSFER_ENCODING": "chunked"})},

		// HTTP_* variables.
		{"names upper-cased, dash to underscore", getRequest("/", Field{"x-lower-case", "v"}, Field{"User-Agent", "probe/1.0"}), nil, nil,
			environWith(Environ{"HTTP_X_LOWER_CASE": "v", "HTTP_USER_AGENT": "probe/1.0"})},
		{"repeated fields joined with a comma", getRequest("/", Field{"X-Dup", "1"}, Field{"x-dup", "2"}, Field{"X-Dup", "3"}), nil, nil,
			environWith(Environ{"HTTP_X_DUP": "1,2,3"})},
		{"repeated Cookie joined with semicolon", getRequest("/", Field{"Cookie", "a=1"}, Field{"Cookie", "b=2"}), nil, nil,
			environWith(Environ{"HTTP_COOKIE": "a=1; b=2"})},
		{"empty value kept", getRequest("/", Field{"X-Empty", ""}), nil, nil, environWith(Environ{"HTTP_X_EMPTY": ""})},
		{"inner spaces kept", getRequest("/", Field{"X-Padded", "padded  value"}), nil, nil,
			environWith(Environ{"HTTP_X_PADDED": "padded  value"})},
		{"Latin-1 byte in a value", getRequest("/", Field{"X-Latin", "caf\xe9"}), nil, nil,
			environWith(Environ{"HTTP_X_LATIN": "caf\u00e9"})},
		{"underscore names dropped", getRequest("/", Field{"X_Forwarded_For", "6.6.6.6"}, Field{"X-Forwarded-For", "10.0.0.1"}), nil, nil,
			environWith(Environ{"HTTP_X_FORWARDED_FOR": "10.0.0.1"})},
		{"CGI-named headers dropped", getRequest("/", Field{"Path-Info", "/spoofed"}, Field{"Server-Name", "spoofed"},
			Field{"Request-Method", "PUT"}, Field{"Script-Name", "/x"}, Field{"Remote-Addr", "6.6.6.6"}), nil, nil,
			environWith(nil)},
		{"Https header does not change url_scheme", getRequest("/", Field{"Https", "on"}), nil, nil,
			environWith(Environ{"HTTP_HTTPS": "on"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local, remote := tt.local, tt.remote
			if local == nil {
				local, remote = testLocal, testRemote
			}
			got, err := buildEnviron(tt.req, local, remote, strings.NewReader(""), &bytes.Buffer{})
			if err != nil {
				t.Fatalf("buildEnviron(%q): %v", tt.req.Target, err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreStreams); diff != "" {
				t.Errorf("buildEnviron(%q) environ mismatch (-want +got):\n%s", tt.req.Target, diff)
			}
		})
	}
}

func TestBuildEnvironStreams(t *testing.T) {
	input, errs := strings.NewReader("body"), &bytes.Buffer{}
	env, err := buildEnviron(getRequest("/"), testLocal, testRemote, input, errs)
	if err != nil {
		t.Fatal(err)
	}
	if env["wsgi.input"] != input {
		t.Errorf("wsgi.input = %v, want the reader passed in", env["wsgi.input"])
	}
	if env["wsgi.errors"] != errs {
		t.Errorf("wsgi.errors = %v, want the writer passed in", env["wsgi.errors"])
	}
}

func TestBuildEnvironRejectsTarget(t *testing.T) {
	for _, target := range []string{"example.com:443", "ftp://example.com/x", "p", "",
		"http://user@evil.example:99/", "http://\"><script>x</script>/", "http:///p", "http://a:b:c/", "http://[::1/"} {
		t.Run(target, func(t *testing.T) {
			_, err := buildEnviron(getRequest(target), testLocal, testRemote, strings.NewReader(""), &bytes.Buffer{})
			var se *statusError
			if !errors.As(err, &se) || se.Code != 400 {
				t.Errorf("buildEnviron(%q) error = %v, want a *statusError 400", target, err)
			}
		})
	}
}

func TestLatin1Bytes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []byte
	}{
		{"empty", "", []byte{}},
		{"ASCII", "/plain", []byte("/plain")},
		{"UTF-8 seen as Latin-1", "/caf\u00c3\u00a9", []byte("/café")},
		{"ends of the range", "\x00\u00ff", []byte{0x00, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, latin1Bytes(tt.in)); diff != "" {
				t.Errorf("latin1Bytes(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	t.Run("undoes latin1 for every byte", func(t *testing.T) {
		var all []byte
		for b := range 256 {
			all = append(all, byte(b))
		}
		if diff := cmp.Diff(all, latin1Bytes(latin1(string(all)))); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	})
}
