package main

// validate.go: a Go port of the checks in Python's wsgiref.validate.
//
// Every check wsgiref.validate makes was considered. Each one ends up in one
// of three groups:
//
// Ported (a broken rule panics with *ContractError; W = warning only):
//   environ   required keys; no HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH;
//             W: QUERY_STRING missing; keys without '.' hold strings;
//             wsgi.version is [2]int; wsgi.url_scheme is http or https;
//             wsgi.input is an io.Reader; wsgi.errors is an io.Writer;
//             W: unknown REQUEST_METHOD; SCRIPT_NAME and PATH_INFO start
//             with '/'; CONTENT_LENGTH is an integer >= 0; SCRIPT_NAME or
//             PATH_INFO is present; SCRIPT_NAME is not '/'.
//   app       does not return nil.
//   status    code is 3 characters; code is an integer >= 100;
//             W: "200 Reason" shape (digits, one space, reason).
//   headers   no Status header; no ':' or '\n' in names; names match
//             ^[a-zA-Z][a-zA-Z0-9\-_]*$ and do not end in '-' or '_';
//             values hold no \000-\037; Content-Type is required, except on
//             204 and 304, where it is forbidden.
//   body      first chunk only after start_response; not ranged twice
//             ("Iterator read after closed").
//   streams   input.close() and errors.close() must not be called: the
//             wrappers below have no Close method, so there is none to call.
//
// Enforced by the compiler (Go's types make the rule impossible to break):
//   the app gets exactly two positional arguments and no keyword arguments;
//   environ is a plain dict; the app does not return a str or bytes;
//   start_response gets 2 or 3 positional arguments and no keyword arguments;
//   status is a str; headers is a list; each header is a tuple of length 2
//   whose name and value are str; exc_info is a tuple (here: an error);
//   write() gets bytes; the body yields only bytes; wsgi.errors gets str;
//   wsgi.input's read/readline/readlines/__iter__ take the right arguments
//   and return bytes (io.Reader has just Read, with a fixed signature).
//
// Built into the language: close() is forwarded to the app's iterable.
// A range loop that finishes or breaks ends the app's iter.Seq, which runs
// its deferred clean-up.
//
// Not ported: "Iterator garbage collected without being closed". Go has no
// hook for a body that the server never ranges over.
//
// Added for Go: the server must not pass a nil start_response, and its
// start_response must not return a nil Write. A body that ends without
// start_response ever being called is reported too (wsgiref lets the
// server find that out).

import (
	"fmt"
	"io"
	"iter"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ContractError is the panic value for a broken WSGI rule. Its Message is
// worded as wsgiref.validate words its AssertionError, so the two can be
// compared side by side.
type ContractError struct{ Message string }

func (e *ContractError) Error() string { return e.Message }

// failf reports a broken rule: it panics, as an uncaught exception would.
func failf(format string, args ...any) {
	panic(&ContractError{Message: fmt.Sprintf(format, args...)})
}

// warnf reports a WSGIWarning: one line on the request's wsgi.errors stream.
// The request goes on.
func warnf(wsgiErrors io.Writer, format string, args ...any) {
	if wsgiErrors != nil {
		fmt.Fprintf(wsgiErrors, "WSGIWarning: %s\n", fmt.Sprintf(format, args...))
	}
}

// Validator wraps app and checks, on every request, that both the server and
// the app keep the WSGI contract of PEP 3333: the server builds a correct
// environ, the app calls start_response with a well-formed status line and
// headers before its body yields anything, returns a body, and the server
// ranges over that body only once. The first broken rule panics with a
// *ContractError; softer problems become warnings on wsgi.errors.
func Validator(app App) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		if startResponse == nil {
			failf("The server passed a nil start_response")
		}
		checkEnviron(environ)
		wsgiErrors := environ["wsgi.errors"].(io.Writer)
		environ["wsgi.input"] = inputWrapper{environ["wsgi.input"].(io.Reader)}
		environ["wsgi.errors"] = errorsWrapper{wsgiErrors}

		started := false // has the app called start_response yet?
		checkedStartResponse := func(status string, headers []Header, excInfo error) Write {
			code := checkStatus(status, wsgiErrors)
			checkHeaders(headers)
			checkContentType(code, headers)
			started = true
			write := startResponse(status, headers, excInfo)
			if write == nil {
				failf("The server's start_response returned a nil write callable")
			}
			return write
		}

		body := app(environ, checkedStartResponse)
		if body == nil {
			failf("The application must return an iterator, if only an empty list")
		}
		return checkBody(body, &started)
	}
}

// checkEnviron checks the server's side of the contract, in wsgiref's order.
func checkEnviron(environ Environ) {
	for _, key := range []string{"REQUEST_METHOD", "SERVER_NAME", "SERVER_PORT",
		"wsgi.version", "wsgi.input", "wsgi.errors",
		"wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"} {
		if _, ok := environ[key]; !ok {
			failf("Environment missing required key: %s", pyQuote(key))
		}
	}
	for _, key := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if _, ok := environ[key]; ok {
			failf("Environment should not have the key: %s (use %s instead)", key, key[len("HTTP_"):])
		}
	}
	wsgiErrors, _ := environ["wsgi.errors"].(io.Writer)
	if _, ok := environ["QUERY_STRING"]; !ok {
		warnf(wsgiErrors, "QUERY_STRING is not in the WSGI environment; the cgi module will use sys.argv when this variable is missing, so application errors are more likely")
	}
	// Sorted, so that the first bad key is the same on every run.
	for _, key := range slices.Sorted(maps.Keys(environ)) {
		if _, ok := environ[key].(string); !ok && !strings.Contains(key, ".") {
			failf("Environmental variable %s is not a string: %T (value: %s)", key, environ[key], repr(environ[key]))
		}
	}
	if _, ok := environ["wsgi.version"].([2]int); !ok {
		failf("wsgi.version should be a [2]int (%s)", repr(environ["wsgi.version"]))
	}
	if scheme := environ["wsgi.url_scheme"]; scheme != "http" && scheme != "https" {
		failf("wsgi.url_scheme unknown: %s", repr(scheme))
	}
	if _, ok := environ["wsgi.input"].(io.Reader); !ok {
		failf("wsgi.input (%T) doesn't have the method Read", environ["wsgi.input"])
	}
	if wsgiErrors == nil {
		failf("wsgi.errors (%T) doesn't have the method Write", environ["wsgi.errors"])
	}

	// From here on every CGI value is known to be a string (or missing: "").
	cgi := func(key string) string { s, _ := environ[key].(string); return s }
	switch method := cgi("REQUEST_METHOD"); method {
	case "GET", "HEAD", "POST", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE":
	default:
		warnf(wsgiErrors, "Unknown REQUEST_METHOD: %s", pyQuote(method))
	}
	if name := cgi("SCRIPT_NAME"); name != "" && !strings.HasPrefix(name, "/") {
		failf("SCRIPT_NAME doesn't start with /: %s", pyQuote(name))
	}
	if path := cgi("PATH_INFO"); path != "" && !strings.HasPrefix(path, "/") {
		failf("PATH_INFO doesn't start with /: %s", pyQuote(path))
	}
	// Python raises a ValueError for a non-number; Go has no such thing, so
	// a non-number gets the same message as a negative number.
	if length := cgi("CONTENT_LENGTH"); length != "" {
		if n, err := strconv.ParseInt(length, 10, 64); err != nil || n < 0 {
			failf("Invalid CONTENT_LENGTH: %s", pyQuote(length))
		}
	}
	if _, hasPath := environ["PATH_INFO"]; cgi("SCRIPT_NAME") == "" && !hasPath {
		failf("One of SCRIPT_NAME or PATH_INFO are required (PATH_INFO should at least be '/' if SCRIPT_NAME is empty)")
	}
	if cgi("SCRIPT_NAME") == "/" {
		failf("SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'")
	}
}

// checkStatus checks a status line such as "200 OK" and returns its code.
func checkStatus(status string, wsgiErrors io.Writer) int {
	code := ""
	if fields := strings.Fields(status); len(fields) > 0 {
		code = fields[0]
	}
	if utf8.RuneCountInString(code) != 3 {
		failf("Status codes must be three characters: %s", pyQuote(code))
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		failf("Status code is invalid: %s", pyQuote(code))
	}
	if n < 100 {
		failf("Status code is invalid: %d", n)
	}
	if runes := []rune(status); len(runes) < 4 || runes[3] != ' ' {
		warnf(wsgiErrors, "The status string (%s) should be a three-digit integer followed by a single space and a status explanation", pyQuote(status))
	}
	return n
}

// headerName is wsgiref's rule for a header name: stricter than an HTTP token.
var headerName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\-_]*$`)

func checkHeaders(headers []Header) {
	for _, h := range headers {
		if strings.ToLower(h.Name) == "status" {
			failf("The Status header cannot be used; it conflicts with CGI script, and HTTP status is not given through headers (value: %s).", pyQuote(h.Value))
		}
		if strings.ContainsAny(h.Name, ":\n") {
			failf("Header names may not contain ':' or '\\n': %s", pyQuote(h.Name))
		}
		if !headerName.MatchString(h.Name) {
			failf("Bad header name: %s", pyQuote(h.Name))
		}
		if strings.HasSuffix(h.Name, "-") || strings.HasSuffix(h.Name, "_") {
			failf("Names may not end in '-' or '_': %s", pyQuote(h.Name))
		}
		// Control characters \000-\037, TAB included (DEL is not checked).
		if i := strings.IndexFunc(h.Value, func(r rune) bool { return r < 0o40 }); i >= 0 {
			failf("Bad header value: %s (bad char: %s)", pyQuote(h.Value), pyQuote(h.Value[i:i+1]))
		}
	}
}

// checkContentType: a response with a body needs a Content-Type; 204 and
// 304 responses have no body, so they must not have one.
func checkContentType(code int, headers []Header) {
	noBody := code == 204 || code == 304
	for _, h := range headers {
		if strings.ToLower(h.Name) == "content-type" {
			if noBody {
				failf("Content-Type header found in a %d response, which must not return content.", code)
			}
			return
		}
	}
	if !noBody {
		failf("No Content-Type header found in headers (%s)", reprHeaders(headers))
	}
}

// checkBody wraps the app's body so the validator sees the server range it.
func checkBody(body iter.Seq[[]byte], started *bool) iter.Seq[[]byte] {
	ranged := false
	return func(yield func([]byte) bool) {
		// A finished or broken-off range loop is Go's close(): no second read.
		if ranged {
			failf("Iterator read after closed")
		}
		ranged = true
		for chunk := range body {
			if !*started {
				failf("The application returns and we started iterating over its body, but start_response has not yet been called")
			}
			if !yield(chunk) {
				return
			}
		}
		if !*started {
			failf("The application returns and we started iterating over its body, but start_response has not yet been called")
		}
	}
}

// inputWrapper shows the app only Read. It deliberately has no Close method:
// the app must not close wsgi.input (the server owns the connection).
type inputWrapper struct{ r io.Reader }

func (w inputWrapper) Read(p []byte) (int, error) { return w.r.Read(p) }

// errorsWrapper shows the app only Write. No Close: wsgi.errors belongs to
// the server, which keeps using it after the request.
type errorsWrapper struct{ w io.Writer }

func (w errorsWrapper) Write(p []byte) (int, error) { return w.w.Write(p) }

// pyQuote writes s the way Python's repr() writes a str, so the messages
// match wsgiref's: 'a\nb', or "it's" when s holds a ' but no ".
func pyQuote(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

// repr shows any environ value: strings as Python would, the rest as Go would.
func repr(v any) string {
	if s, ok := v.(string); ok {
		return pyQuote(s)
	}
	return fmt.Sprintf("%#v", v)
}

// reprHeaders shows headers as Python shows a list of tuples.
func reprHeaders(headers []Header) string {
	items := make([]string, len(headers))
	for i, h := range headers {
		items[i] = "(" + pyQuote(h.Name) + ", " + pyQuote(h.Value) + ")"
	}
	return "[" + strings.Join(items, ", ") + "]"
}
