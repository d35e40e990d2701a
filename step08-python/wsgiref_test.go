package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wsgirefCases go byte for byte to CPython's wsgiref and to this server.
var wsgirefCases = []struct{ name, request string }{
	{"plain GET", rawHead("GET / HTTP/1.1", "Host: h")},
	{"query string", rawHead("GET /search?q=go&page=2 HTTP/1.1", "Host: h")},
	{"encoded slash", rawHead("GET /x%2Fy HTTP/1.1", "Host: h")},
	{"UTF-8 escapes", rawHead("GET /caf%C3%A9?q=caf%C3%A9 HTTP/1.1", "Host: h")},
	{"plus sign", rawHead("GET /a+b?x=a+b HTTP/1.1", "Host: h")},
	{"invalid escape", rawHead("GET /bad%zz HTTP/1.1", "Host: h")},
	{"NUL escape", rawHead("GET /nul%00end HTTP/1.1", "Host: h")},
	{"double slash", rawHead("GET //double//slash HTTP/1.1", "Host: h")},
	{"long query", rawHead("GET /long?q="+strings.Repeat("a", 2000)+" HTTP/1.1", "Host: h")},
	{"absolute-form", rawHead("GET http://example.com:8080/abs/path?q=1 HTTP/1.1", "Host: example.com:8080")},
	{"HTTP/1.0 without Host", rawHead("GET /legacy HTTP/1.0")},
	{"Host with port", rawHead("GET / HTTP/1.1", "Host: example.com:8080")},
	{"HEAD", rawHead("HEAD /head HTTP/1.1", "Host: h")},
	{"unknown method BREW", rawHead("BREW /pot HTTP/1.1", "Host: h")},
	{"repeated header", rawHead("GET / HTTP/1.1", "Host: h", "X-Dup: 1", "X-Dup: 2")},
	{"repeated Cookie", rawHead("GET / HTTP/1.1", "Host: h", "Cookie: a=1", "Cookie: b=2")},
	{"empty header value", rawHead("GET / HTTP/1.1", "Host: h", "X-Empty:")},
	{"padded header value", rawHead("GET / HTTP/1.1", "Host: h", "X-Padded:   padded value   ")},
	{"raw Latin-1 byte in a value", rawHead("GET / HTTP/1.1", "Host: h", "X-Latin: caf\xe9")},
	{"lower-case header names", rawHead("GET / HTTP/1.1", "host: h", "user-agent: probe/1.0", "x-lower-case: v")},
	{"underscore header name", rawHead("GET / HTTP/1.1", "Host: h", "X_Forwarded_For: 6.6.6.6")},
	{"CGI-named headers", rawHead("GET / HTTP/1.1", "Host: h", "Path-Info: /spoofed", "Server-Name: spoofed")},
	{"Https header", rawHead("GET / HTTP/1.1", "Host: h", "Https: on", "X-Forwarded-Proto: https")},
	{"POST with Content-Length", rawHead("POST /submit HTTP/1.1", "Host: h", "Content-Length: 11") + "name=gopher"},
	{"POST form", rawHead("POST /form?debug=1 HTTP/1.1", "Host: h",
		"Content-Type: application/x-www-form-urlencoded", "Content-Length: 11") + "name=gopher"},
	{"Content-Type with empty body", rawHead("POST /ct HTTP/1.1", "Host: h",
		"Content-Type: text/html; charset=utf-8", "Content-Length: 0")},
	// Sent all at once: wsgiref never sends 100 Continue, this server may.
	{"Expect: 100-continue", rawHead("POST /expect HTTP/1.1", "Host: h",
		"Content-Length: 4", "Expect: 100-continue") + "body"},
	{"chunked POST", rawHead("POST /chunked HTTP/1.1", "Host: h",
		"Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n"},
}

// rawHead builds a request head: the request line, the fields, then
// "Connection: close", because each server answers one request per connection.
func rawHead(requestLine string, fields ...string) string {
	return requestLine + "\r\n" + strings.Join(append(fields, "Connection: close"), "\r\n") + "\r\n\r\n"
}

// TestEnvironMatchesWsgiref is the step's reference check: the environ this
// server builds must equal wsgiref's, key by key, except for the keys listed
// in the deviation table of README.md.
func TestEnvironMatchesWsgiref(t *testing.T) {
	deviations := readDeviationKeys(t)
	wsgirefAddr := startWsgirefEcho(t, python3(t), filepath.Join("testdata", "wsgiref_echo.py"))
	ourAddr := startEnvironServer(t)
	compareWithWsgiref(t, wsgirefAddr, ourAddr, "this server", slices.Sorted(maps.Keys(deviations)))
}

// compareWithWsgiref sends each of wsgirefCases to wsgiref's echo and to
// ours (named so in messages), one connection per request, and compares
// the two environs key by key: a key that differs and is not one of the
// deviations fails the test, and so does a deviation that never differs
// (once every case was compared). With -v it shows each key's two values.
func compareWithWsgiref(t *testing.T, wsgirefAddr, ourAddr, ourName string, deviations []string) {
	differed := map[string]bool{}
	compared := 0
	for _, tc := range wsgirefCases {
		t.Run(tc.name, func(t *testing.T) {
			requestLine, _, _ := strings.Cut(tc.request, "\r\n")
			wsgiref, err := environOverTCP(wsgirefAddr, tc.request)
			if err != nil {
				t.Fatalf("wsgiref, %q: %v", requestLine, err)
			}
			ours, err := environOverTCP(ourAddr, tc.request)
			if err != nil {
				t.Fatalf("%s, %q: %v", ourName, requestLine, err)
			}
			compared++
			var sideBySide strings.Builder // what was compared, shown with -v
			for _, key := range unionKeys(wsgiref, ours) {
				w, inWsgiref := wsgiref[key]
				o, inOurs := ours[key]
				same := inWsgiref == inOurs && cmp.Equal(w, o)
				mark := "="
				if !same {
					mark = "≠"
				}
				fmt.Fprintf(&sideBySide, "%s %-22s wsgiref: %-34s %s: %s\n",
					mark, key, showEnvValue(w, inWsgiref), ourName, showEnvValue(o, inOurs))
				if same {
					continue
				}
				differed[key] = true
				if !slices.Contains(deviations, key) {
					t.Errorf("%s differs and is not a listed deviation\n  request: %s\n  wsgiref: %s\n  %s: %s",
						key, clipForLog(strconv.Quote(tc.request)), showEnvValue(w, inWsgiref), ourName, showEnvValue(o, inOurs))
				}
			}
			if testing.Verbose() {
				t.Logf("%s: = same, ≠ differs (a deviation)\n%s", requestLine, sideBySide.String())
			}
		})
	}
	if compared < len(wsgirefCases) {
		t.Log("stale deviations are checked only when every case ran and was compared")
		return
	}
	for _, key := range deviations {
		if !differed[key] {
			t.Errorf("stale deviation %q: it never differs from wsgiref in any case; delete it or add a case that shows it", key)
		}
	}
}

// jsonEnvironApp is the Go twin of testdata/wsgiref_echo.py: it answers with
// the environ as JSON (CGI and HTTP_* strings, five wsgi.* keys, and
// body_length), in the X-Environ header and in the body.
func jsonEnvironApp(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	out := map[string]any{}
	if input, ok := environ["wsgi.input"].(io.Reader); ok {
		body, err := io.ReadAll(input)
		out["body_length"] = len(body)
		if err != nil {
			out["body_error"] = err.Error()
		}
	} else {
		out["body_error"] = fmt.Sprintf("wsgi.input is %T, not an io.Reader", environ["wsgi.input"])
	}
	for key, value := range environ {
		if s, ok := value.(string); ok && !strings.HasPrefix(key, "wsgi.") {
			out[key] = s
		}
	}
	for _, key := range []string{"wsgi.version", "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"} {
		if value, ok := environ[key]; ok {
			out[key] = value
		}
	}
	payload := asciiJSON(out)
	startResponse("200 OK", []Header{{"Content-Type", "text/plain"}, {"X-Environ", payload}}, nil)
	return func(yield func([]byte) bool) {
		yield([]byte(payload + "\n"))
	}
}

// asciiJSON encodes v as JSON with every non-ASCII rune escaped as \u00XX,
// like Python's json.dumps, so the text is a valid header value.
func asciiJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		raw, _ = json.Marshal(map[string]string{"json_error": err.Error()})
	}
	var b strings.Builder
	for _, r := range string(raw) {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, `\u%04x`, r) // environ runes are at most U+00FF
		}
	}
	return b.String()
}

// startWsgirefEcho serves script (an environ echo) with wsgiref's
// simple_server under python and returns its address. Its environment
// holds only PATH: wsgiref copies os.environ into every environ, and the
// echoes leave out those keys; the fewer there are, the fewer hide. It is
// killed when the test ends, or after subprocessDeadline at most.
func startWsgirefEcho(t *testing.T, python, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), subprocessDeadline)
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s %s: %v", python, script, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // "signal: killed" is the expected end
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s's stderr (its request log):\n%s", script, stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port := strings.TrimSpace(line)
	if _, convErr := strconv.Atoi(port); err != nil || convErr != nil {
		t.Fatalf("%s did not print its port first (got %q, %v)", script, line, err)
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// startEnvironServer serves jsonEnvironApp with this step's Server.
func startEnvironServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{App: jsonEnvironApp, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of its listener closing")
		}
	})
	return ln.Addr().String()
}

// environOverTCP sends request to addr, reads the response until the server
// closes, and decodes the environ from its X-Environ header. SERVER_PORT,
// which must be the port the server listens on, becomes "(listening port)".
func environOverTCP(addr, request string) (map[string]any, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(conn, request); err != nil {
		return nil, fmt.Errorf("writing the request: %v", err)
	}
	raw, err := io.ReadAll(conn)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("the connection was still open after 10s (Connection: close was sent); got %q", clipForLog(string(raw)))
	case err != nil && len(raw) == 0:
		return nil, fmt.Errorf("reading the response: %v", err)
	}
	env, err := environFromResponse(string(raw))
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	if env["SERVER_PORT"] == port {
		env["SERVER_PORT"] = "(listening port)"
	}
	return env, nil
}

// environFromResponse finds the final response (after any interim
// "100 Continue"), checks it is a 200 and decodes its X-Environ header.
func environFromResponse(raw string) (map[string]any, error) {
	for {
		head, rest, ok := strings.Cut(raw, "\r\n\r\n")
		if !ok {
			return nil, fmt.Errorf("no complete response head in %q", clipForLog(raw))
		}
		lines := strings.Split(head, "\r\n")
		code := ""
		if parts := strings.Fields(lines[0]); len(parts) >= 2 {
			code = parts[1]
		}
		if len(code) == 3 && code[0] == '1' {
			raw = rest // an interim response; the real one follows
			continue
		}
		if code != "200" {
			return nil, fmt.Errorf("status line %q, body %q", lines[0], clipForLog(rest))
		}
		for _, line := range lines[1:] {
			name, value, _ := strings.Cut(line, ":")
			if strings.EqualFold(name, "X-Environ") {
				var env map[string]any
				if err := json.Unmarshal([]byte(strings.TrimSpace(value)), &env); err != nil {
					return nil, fmt.Errorf("X-Environ is not JSON: %v", err)
				}
				return env, nil
			}
		}
		return nil, fmt.Errorf("no X-Environ header in %q", clipForLog(head))
	}
}

// readDeviationKeys reads the keys of the deviation table in README.md.
// Rows look like | `KEY` | wsgiref | this server | why |.
func readDeviationKeys(t *testing.T) map[string]bool {
	t.Helper()
	const heading, from = "## Deliberate deviations from wsgiref", "README.md"
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), heading+"\n")
	if i < 0 {
		t.Fatalf("no %q section in %s", heading, from)
	}
	section := string(data[i+len(heading)+1:])
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}

	var rows [][]string
	for _, line := range strings.Split(section, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "|") {
			rows = append(rows, strings.Split(strings.Trim(line, "|"), "|"))
		}
	}
	if len(rows) < 3 {
		t.Fatalf("%s: the deviation table needs a header row, a |---| row and at least one row", from)
	}
	keys := map[string]bool{}
	for _, cells := range rows[2:] { // skip the header and |---| rows
		key := strings.Trim(strings.TrimSpace(cells[0]), "`")
		switch {
		case len(cells) != 4 || strings.TrimSpace(cells[3]) == "":
			t.Errorf("%s: deviation row for %q needs four cells: | key | wsgiref | this server | why |", from, key)
		case keys[key]:
			t.Errorf("%s: two deviation rows for %q; keep one row per key", from, key)
		}
		keys[key] = true
	}
	return keys
}

func unionKeys(a, b map[string]any) []string {
	var keys []string
	for key := range a {
		keys = append(keys, key)
	}
	for key := range b {
		if _, inA := a[key]; !inA {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

func showEnvValue(v any, present bool) string {
	if !present {
		return "(absent)"
	}
	if s, ok := v.(string); ok {
		return clipForLog(strconv.Quote(s))
	}
	return fmt.Sprint(v)
}

// clipForLog shortens s for a failure message.
func clipForLog(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}
