package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"example.com/wsgicourse/transcript"
)

// response is one HTTP response as a client sees it: status, fields, and
// the body after framing (de-chunked), with how it was framed.
type response struct {
	proto   string
	code    int
	reason  string      // the status line's reason phrase
	fields  [][2]string // name, value, in order
	framing string      // "Content-Length", "chunked", "until close", "none"
	broken  string      // what is wrong with the framing, "" if nothing
	body    []byte
}

func (r *response) field(name string) (string, bool) {
	for _, f := range r.fields {
		if strings.EqualFold(f[0], name) {
			return f[1], true
		}
	}
	return "", false
}

func (r *response) hasToken(name, token string) bool {
	for _, f := range r.fields {
		if strings.EqualFold(f[0], name) {
			for t := range strings.SplitSeq(f[1], ",") {
				if strings.EqualFold(strings.TrimSpace(t), token) {
					return true
				}
			}
		}
	}
	return false
}

// closes says whether the connection ends after this response: the
// server said Connection: close, answered HTTP/1.0 without keep-alive,
// or ended the body by closing.
func (r *response) closes() bool {
	return r.hasToken("Connection", "close") || r.framing == "until close" ||
		r.proto == "HTTP/1.0" && !r.hasToken("Connection", "keep-alive")
}

// parseResponses reads every response in data, the answers to requests
// whose methods are given in order (a HEAD answer has no body). rest is
// what follows the last response that could be read; notHTTP says why it
// is not a response.
func parseResponses(data []byte, methods []string) (out []response, rest []byte, notHTTP string) {
	for len(data) > 0 {
		method := "GET"
		if len(out) < len(methods) {
			method = methods[len(out)]
		}
		r, n, why := parseOne(data, method)
		if why != "" {
			return out, data, why
		}
		out = append(out, r)
		data = data[n:]
	}
	return out, nil, ""
}

// parseOne reads one final response, skipping 1xx interim ones.
func parseOne(data []byte, method string) (response, int, string) {
	used := 0
	for {
		if !bytes.HasPrefix(data[used:], []byte("HTTP/")) {
			return response{}, 0, "not HTTP: it does not start with HTTP/"
		}
		end := bytes.Index(data[used:], []byte("\r\n\r\n"))
		if end < 0 {
			return response{}, 0, "a response head with no empty line at its end (or lines ending in a bare LF)"
		}
		head := string(data[used : used+end])
		used += end + 4
		lines := strings.Split(head, "\r\n")
		status := strings.SplitN(lines[0], " ", 3)
		code, err := strconv.Atoi(status[min(1, len(status)-1)])
		if len(status) < 2 || err != nil || len(status[1]) != 3 {
			return response{}, 0, fmt.Sprintf("not HTTP: the status line %q has no three-digit code", lines[0])
		}
		r := response{proto: status[0], code: code}
		if len(status) == 3 {
			r.reason = status[2]
		}
		for _, line := range lines[1:] {
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				return response{}, 0, fmt.Sprintf("a header line without a colon: %q", line)
			}
			r.fields = append(r.fields, [2]string{name, strings.TrimSpace(value)})
		}
		if code >= 100 && code < 200 {
			continue // 100 Continue: optional, see the README
		}
		n, err2 := r.frame(data[used:], method)
		return r, used + n, err2
	}
}

// frame reads the body as RFC 9112 §6.3 says a client must, and returns
// how many bytes it took.
func (r *response) frame(data []byte, method string) (int, string) {
	length, hasLength := r.field("Content-Length")
	switch {
	case method == "HEAD" || r.code == 204 || r.code == 304:
		r.framing = "none"
		return 0, ""
	case r.hasToken("Transfer-Encoding", "chunked"):
		r.framing = "chunked"
		n, body, broken := dechunk(data)
		r.body, r.broken = body, broken
		return n, ""
	case hasLength:
		r.framing = "Content-Length"
		n, err := strconv.Atoi(length)
		if err != nil || n < 0 {
			r.broken = fmt.Sprintf("Content-Length %q is not a number", length)
			r.body = data
			return len(data), ""
		}
		if n > len(data) {
			r.broken = fmt.Sprintf("cut off: Content-Length %d, then the connection closed after %d bytes", n, len(data))
			n = len(data)
		}
		r.body = data[:n]
		return n, ""
	}
	r.framing = "until close"
	r.body = data
	return len(data), ""
}

// dechunk reads a chunked body (RFC 9112 §7.1) and its trailer section.
func dechunk(data []byte) (used int, body []byte, broken string) {
	for {
		eol := bytes.Index(data[used:], []byte("\r\n"))
		if eol < 0 {
			return len(data), body, "cut off before the last (zero-size) chunk: the client can tell the body is short"
		}
		sizeText, _, _ := strings.Cut(string(data[used:used+eol]), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 32)
		if err != nil || size < 0 {
			return len(data), body, fmt.Sprintf("a chunk size that is not hex: %q", sizeText)
		}
		used += eol + 2
		if size == 0 {
			for { // trailer fields, then the empty line
				eol := bytes.Index(data[used:], []byte("\r\n"))
				if eol < 0 {
					return len(data), body, "cut off in the trailer section"
				}
				used += eol + 2
				if eol == 0 {
					return used, body, ""
				}
			}
		}
		if used+int(size)+2 > len(data) {
			return len(data), append(body, data[used:]...), "cut off before the last (zero-size) chunk: the client can tell the body is short"
		}
		body = append(body, data[used:used+int(size)]...)
		used += int(size) + 2
	}
}

// requestMethods is the methods of a request section's requests, so the
// answer to a pipelined HEAD is framed without a body.
func requestMethods(req []byte) []string {
	var methods []string
	for _, r := range splitRequests(req) {
		m, _, _ := bytes.Cut(r, []byte(" "))
		methods = append(methods, string(m))
	}
	return methods
}

// splitRequests splits a request section (one, or several pipelined)
// into its requests, each with its body; empty lines before a request
// are left out.
func splitRequests(req []byte) [][]byte {
	var out [][]byte
	for len(req) > 0 {
		req = bytes.TrimLeft(req, "\r\n")
		end := bytes.Index(req, []byte("\r\n\r\n"))
		if !bytes.Contains(req, []byte(" ")) || end < 0 {
			break
		}
		head := &response{}
		for _, line := range strings.Split(string(req[:end]), "\r\n")[1:] {
			name, value, _ := strings.Cut(line, ":")
			head.fields = append(head.fields, [2]string{name, strings.TrimSpace(value)})
		}
		n := end + 4
		if head.hasToken("Transfer-Encoding", "chunked") {
			used, _, _ := dechunk(req[n:])
			n += used
		} else if cl, ok := head.field("Content-Length"); ok {
			first, _, _ := strings.Cut(cl, ",") // "5, 5": a list of one value (RFC 9110 §8.6)
			length, _ := strconv.Atoi(strings.TrimSpace(first))
			n += min(max(length, 0), len(req)-n)
		}
		out = append(out, req[:n])
		req = req[n:]
	}
	return out
}

// rules are what one comparison looks at, set by the step being checked.
type rules struct {
	step int // persistence is the lesson of step 05: compared from there on
}

// view renders what matters of the responses to one request section, as
// lines: two views are equal exactly when the server passes. want decides
// what is compared (the golden's responses); got is rendered the same way.
func (ru rules) view(request []byte, want []response, got []response, rest []byte, notHTTP string) []string {
	var lines []string
	for i, w := range want {
		if len(want) > 1 {
			lines = append(lines, fmt.Sprintf("response %d", i+1))
		}
		if i >= len(got) {
			lines = append(lines, "  (no response: the connection ended)")
			continue
		}
		lines = append(lines, ru.one(request, w, got[i])...)
	}
	for range got[min(len(got), len(want)):] {
		lines = append(lines, "another response, to a request that was not sent")
	}
	if len(rest) > 0 {
		// How many bytes is not compared: an echo's length is the server's.
		lines = append(lines, fmt.Sprintf("then bytes that are not a response (%s), such as a body sent to HEAD", notHTTP))
	}
	return lines
}

// one renders one response, as want w decides.
func (ru rules) one(request []byte, w, g response) []string {
	lines := []string{fmt.Sprintf("  status %d", g.code)}
	serverOwn := serversOwnRefusal(w)
	switch {
	case g.broken != "":
		lines = append(lines, "  framing: "+g.framing+", "+g.broken)
	case serverOwn || w.framing == "none" && g.framing == "none":
		lines = append(lines, "  framing: valid")
	default:
		lines = append(lines, "  framing: "+g.framing)
	}
	if w.framing == "none" { // a HEAD answer still says how the body would be framed
		lines = append(lines, "  head says: "+describedFraming(w, g))
	}
	if ru.step >= 5 {
		if g.closes() {
			lines = append(lines, "  connection: closed after this response")
		} else {
			lines = append(lines, "  connection: kept open")
		}
	}
	if serverOwn {
		return lines // the server's own refusal: its wording and media type are its own
	}
	for _, name := range []string{"Content-Type", "Location", "Cache-Control", "Retry-After"} {
		if _, ok := w.field(name); ok {
			v, ok := g.field(name)
			lines = append(lines, "  "+name+": "+shown(normaliseValue(v), ok))
		}
	}
	if _, ok := w.field("Allow"); ok {
		v, ok := g.field("Allow")
		lines = append(lines, "  Allow: "+shown(methodSet(v), ok))
	}
	if _, ok := w.field("X-Request-Id"); ok {
		v, ok := g.field("X-Request-Id")
		if _, sent := requestField(request, "X-Request-Id"); !sent && ok {
			v = "(a fresh id)" // made up per request: only its presence is compared
		}
		lines = append(lines, "  X-Request-Id: "+shown(v, ok))
	}
	if w.framing != "none" {
		lines = append(lines, "  body:")
		for _, l := range bodyView(request, w.body, g.body) {
			lines = append(lines, "    "+l)
		}
	}
	return lines
}

// serversOwnRefusal says whether a golden answer is the server's, not the
// app's: a 4xx or 5xx without the X-Request-Id step 06's middleware stamps
// on every answer of the app (before step 06 every error is the server's).
func serversOwnRefusal(w response) bool {
	return w.code >= 400 && !hasField(w, "X-Request-Id")
}

func describedFraming(w, g response) string {
	_, wantLength := w.field("Content-Length")
	_, hasLength := g.field("Content-Length")
	switch {
	case wantLength && hasLength:
		return "Content-Length"
	case g.hasToken("Transfer-Encoding", "chunked"):
		return "chunked"
	case hasLength:
		return "Content-Length"
	}
	return "no length"
}

func hasField(r response, name string) bool { _, ok := r.field(name); return ok }

func shown(v string, ok bool) string {
	if !ok {
		return "(missing)"
	}
	return v
}

// normaliseValue makes "text/plain;charset=UTF-8" and
// "text/plain; charset=utf-8" the same value.
func normaliseValue(v string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return strings.Join(parts, "; ")
}

func methodSet(v string) string {
	var methods []string
	for m := range strings.SplitSeq(v, ",") {
		methods = append(methods, strings.ToUpper(strings.TrimSpace(m)))
	}
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}

// requestField finds a field in the first request's head.
func requestField(request []byte, name string) (string, bool) {
	head, _, _ := bytes.Cut(request, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n")[1:] {
		n, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(n, name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// bodyView renders a body for the comparison: the environ echo in its
// neutral form, a JSON decoder's complaint cut to the course's words,
// anything else as its escaped lines.
func bodyView(request, want, got []byte) []string {
	if isEnvironEcho(want) {
		return environView(request, want, got)
	}
	const invalidJSON = `"message":"The body is not valid JSON: `
	if i := bytes.Index(want, []byte(invalidJSON)); i >= 0 {
		cut := func(b []byte) []byte {
			if j := bytes.Index(b, []byte(invalidJSON)); j >= 0 {
				return append(b[:j+len(invalidJSON):j+len(invalidJSON)], "(the decoder's words)"...)
			}
			return b
		}
		return transcript.Lines(cut(got))
	}
	return transcript.Lines(got)
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "…"...)
	}
	return b
}
