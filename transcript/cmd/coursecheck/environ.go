package main

import (
	"bytes"
	"slices"
	"strings"
)

// isEnvironEcho recognises the demo's environ echo: KEY = value lines,
// then the body's length.
func isEnvironEcho(body []byte) bool {
	return (bytes.HasPrefix(body, []byte("CONTENT_")) || bytes.HasPrefix(body, []byte("GATEWAY_INTERFACE = "))) &&
		bytes.Contains(body, []byte(" bytes read from wsgi.input\n"))
}

// serverDependent are environ keys every server must set but whose
// values are its own: its name, its address, its streams and its model.
var serverDependent = map[string]bool{
	"SERVER_SOFTWARE":   true,
	"SERVER_NAME":       true, // wsgiref: socket.getfqdn(); the course: the Host's name
	"SERVER_PORT":       true, // where the server under test listens
	"wsgi.input":        true, // a type name, Go's or Python's
	"wsgi.errors":       true,
	"wsgi.multithread":  true, // a goroutine per connection, or a sync worker
	"wsgi.multiprocess": true,
}

// courseOnly are the course servers' own extensions (PEP 3333 lets a
// server add keys of its own): steps 06-07 hand the access log the status
// the client got through server.response_status. No other server has it.
var courseOnly = map[string]bool{"server.response_status": true}

// optional are keys the course's servers set that PEP 3333 does not
// require (gunicorn leaves GATEWAY_INTERFACE out): absent is fine, a
// value must be the course's.
var optional = map[string]bool{"GATEWAY_INTERFACE": true}

// environView renders an echo in the neutral form: the keys the request
// decides (HTTP_*, CONTENT_*) exactly, as a set; every other key the
// course's server sets, with its value unless the value is the server's
// own; extra keys of the server's own (REMOTE_PORT, wsgi.file_wrapper,
// the OS environment wsgiref copies in) left out; the body's length.
func environView(request, want, got []byte) []string {
	wantKeys := map[string]bool{}
	for key := range parseEcho(want) {
		wantKeys[key] = true
	}
	env := parseEcho(got)
	var lines []string
	for _, key := range slices.Sorted(mapsKeys(env, wantKeys)) {
		value, ok := env[key]
		fromRequest := strings.HasPrefix(key, "HTTP_") || strings.HasPrefix(key, "CONTENT_")
		switch {
		case courseOnly[key]:
			continue
		case !wantKeys[key] && !fromRequest:
			continue // the server's own extra
		case !wantKeys[key] && (key == "CONTENT_TYPE" || key == "CONTENT_LENGTH") && value == `""`:
			continue // PEP 3333: "may be empty or absent"
		case optional[key] && (!ok || value == parseEcho(want)[key]):
			lines = append(lines, key+" = "+parseEcho(want)[key]+" (or absent)")
		case !ok:
			lines = append(lines, key+" (missing)")
		case serverDependent[key]:
			lines = append(lines, key+" = (the server's own)")
		case key == "request.id":
			if _, sent := requestField(request, "X-Request-Id"); !sent {
				value = "(a fresh id)"
			}
			lines = append(lines, key+" = "+value)
		default:
			lines = append(lines, key+" = "+value)
		}
	}
	for _, line := range strings.SplitAfter(string(got), "\n") {
		if strings.HasPrefix(line, "body: ") {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
		if strings.HasPrefix(line, "reading it failed: ") {
			lines = append(lines, "reading it failed: (the language's words)")
		}
	}
	return lines
}

// parseEcho reads the KEY = value lines of an echo.
func parseEcho(body []byte) map[string]string {
	env := map[string]string{}
	for line := range strings.SplitSeq(string(body), "\n") {
		key, value, ok := strings.Cut(line, " = ")
		if ok && !strings.Contains(key, " ") {
			env[key] = value
		}
	}
	return env
}

func mapsKeys(a map[string]string, b map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
		for k := range b {
			if _, dup := a[k]; !dup && !yield(k) {
				return
			}
		}
	}
}
