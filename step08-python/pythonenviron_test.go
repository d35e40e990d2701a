package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pythonEnvironDeviations are the keys where the environ a Python app gets
// through step 08 differs from the one wsgiref.simple_server gives it for
// the same request bytes, and why. Each must differ in at least one case
// of wsgirefCases, and nothing else may differ.
var pythonEnvironDeviations = map[string]string{
	// The step 04 environ's own choices (README's "Deliberate deviations
	// from wsgiref", which TestEnvironMatchesWsgiref checks from Go); the
	// worker passes every CGI string through as the Go server made it.
	"CONTENT_TYPE":         "absent unless sent; wsgiref defaults to 'text/plain' (RFC 3875 §4.1.3: no default)",
	"CONTENT_LENGTH":       "absent unless sent; wsgiref gives '' (PEP 3333: may be empty or absent)",
	"PATH_INFO":            "the path of an absolute-form target, and '//' kept; wsgiref gives the whole URL and collapses '//' (RFC 9112 §3.2.2, RFC 3986 §3.3)",
	"REMOTE_HOST":          "absent; wsgiref gives '' (no reverse DNS lookup per request)",
	"SERVER_NAME":          "the Host header's host; wsgiref gives socket.getfqdn() of the bound address",
	"SERVER_SOFTWARE":      "'step08-python'; wsgiref gives 'WSGIServer/0.2' (RFC 3875 §4.1.17: the software that answers)",
	"HTTP_COOKIE":          "two Cookie lines joined with '; ' (RFC 6265 §5.4); wsgiref joins them with ','",
	"HTTP_X_FORWARDED_FOR": "absent: a field name with '_' is dropped, so a client cannot forge a header a proxy strips; wsgiref keeps it",
	// The server in front and the worker behind it.
	"request.id":            "the server's request id (middleware.go), so the app's wsgi.errors lines and the access log agree; wsgiref has none",
	"wsgi.multiprocess":     "True: other worker processes serve other requests; wsgiref serves in one process",
	"wsgi.input":            "the worker's InputStream, which asks the server for the body piece by piece and ends at its end; wsgiref gives the socket's file",
	"wsgi.errors":           "the worker's ErrorStream, whose lines go to the server's log with the request id; wsgiref gives sys.stderr",
	"wsgi.file_wrapper":     "absent (PEP 3333: optional); wsgiref offers wsgiref.util.FileWrapper",
	"wsgi.input_terminated": "True: the stream ends at the body's end, de-chunked (gunicorn's convention, which Werkzeug reads); wsgiref has no such key",
	"body":                  "a chunked body is read: with wsgi.input_terminated the app reads to the end; wsgiref leaves the chunks unread",
}

// TestPythonEnvironMatchesWsgiref serves testdata/pyenviron/environ_echo.py
// with step 08 (main's run, as on the command line) and with CPython's
// wsgiref.simple_server, sends both the same request bytes, one connection
// per request, and compares the environ the app saw, key by key. With -v
// it prints each key's two values.
func TestPythonEnvironMatchesWsgiref(t *testing.T) {
	python := python3(t)
	echoDir := filepath.Join("testdata", "pyenviron")
	wsgirefAddr := startWsgirefEcho(t, python, filepath.Join(echoDir, "environ_echo.py"))
	base := serveMain(t, "-python", python, "-dir", echoDir, "-app", "environ_echo:app", "-workers", "2")
	ourAddr := strings.TrimPrefix(base, "http://")

	compareWithWsgiref(t, wsgirefAddr, ourAddr, "step 08", slices.Sorted(maps.Keys(pythonEnvironDeviations)))
}

// TestREADMEListsThePythonDeviations holds the README's table under
// "What a Python app sees" to pythonEnvironDeviations: a key in one and
// not the other fails.
func TestREADMEListsThePythonDeviations(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(readme), "\n### What a Python app sees (step 08)\n")
	section, _, _ = strings.Cut(section, "\n#")
	if !found {
		t.Fatal(`README.md has no "### What a Python app sees (step 08)" section`)
	}
	var listed []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue // not a row, or the table's head
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		for _, key := range strings.Split(first, ", ") {
			listed = append(listed, strings.Trim(key, "`"))
		}
	}
	slices.Sort(listed)
	if want := slices.Sorted(maps.Keys(pythonEnvironDeviations)); !slices.Equal(listed, want) {
		t.Errorf("README.md's table lists %q; pythonEnvironDeviations has %q", listed, want)
	}
}
