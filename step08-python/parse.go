package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Limits on the request head. A client controls every byte it sends, so
// every read below has a budget: no request can make the server hold more
// than about these many bytes in memory.
const (
	maxRequestLine  = 8192  // octets, CRLF excluded; RFC 9112 §3 asks for at least 8000
	maxHeaderFields = 100   // field lines
	maxHeaderBytes  = 16384 // all field lines together, each counted with its CRLF
	maxEmptyLines   = 4     // empty lines ignored before the request line (RFC 9112 §2.2)
)

// Request is the request head as parsed from the wire (RFC 9112).
type Request struct {
	Method string  // token, case-sensitive ("GET")
	Target string  // request-target exactly as sent ("/a%20b?x=1")
	Proto  string  // "HTTP/1.1" or "HTTP/1.0"
	Fields []Field // header field lines in the order received
}

// Field is one header field line: name as sent, value with surrounding SP/HTAB trimmed.
type Field struct{ Name, Value string }

// statusError is a request the server refuses. The server answers it with
// a full response (status line, Content-Type text/plain; charset=utf-8,
// Content-Length, Connection: close, one-line body = Text + "\n") and closes.
// Once the head is parsed, an Accept that asks for JSON gets the error
// pages' JSON instead (errorResponse, server.go).
type statusError struct {
	Code int    // 400, 413, 414, 431, 501, 505 ...
	Text string // one line for the body, e.g. "header field name contains a space"
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, reasonPhrase(e.Code), e.Text)
}

// The errors several places return.
var (
	errLineTooLong    = refuse(414, "request line is longer than %d bytes", maxRequestLine)
	errHeaderTooBig   = refuse(431, "header fields are larger than %d bytes in total", maxHeaderBytes)
	errHeadEndedEarly = refuse(400, "request head ended early")
)

// refuse builds the error for a request we answer with code and close.
func refuse(code int, format string, args ...any) error {
	return &statusError{Code: code, Text: fmt.Sprintf(format, args...)}
}

// reasonPhrases are the texts after the code in a status line (RFC 9110 §15),
// for every code this step sends (body.go writes "100 Continue" whole) and
// the ones a framework's app most often wants (responses.go).
var reasonPhrases = map[int]string{
	200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
	301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
	307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
	413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
	422: "Unprocessable Content", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
	504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

func reasonPhrase(code int) string {
	if text, ok := reasonPhrases[code]; ok {
		return text
	}
	return "Unknown"
}

// readRequest reads one request head into req: the request line, the field
// lines and the empty line after them. It leaves br at the first byte of the
// body. The error is a *statusError for a request to refuse, io.EOF when the
// client closed without starting a request, or the reader's own error
// (a timeout, a reset connection). With an error after the method, what
// was read is still in req: the answer to a HEAD has no body.
//
// The server reads every request of a connection into the same req, so
// the slice behind req.Fields is made once per connection, not once per
// request. Nothing of the last request may show through: req starts empty,
// and the old fields are cleared so their strings can be collected (all
// but the first lines', which last keeps; nil keeps none).
func readRequest(br *bufio.Reader, req *Request, last *keptLines) error {
	clear(req.Fields)
	*req = Request{Fields: req.Fields[:0]}
	var line string
	for empty := 0; ; empty++ {
		raw, err := readLine(br, maxRequestLine, errLineTooLong)
		if err != nil {
			return err // io.EOF here means nothing but empty lines came: just close
		}
		if len(raw) > 0 {
			line = last.text(0, raw)
			break
		}
		// RFC 9112 §2.2: tolerate stray CRLFs, e.g. left over after a previous body.
		if empty == maxEmptyLines {
			return refuse(400, "more than %d empty lines before the request line", maxEmptyLines)
		}
	}
	var err error
	req.Method, req.Target, req.Proto, err = parseRequestLine(line)
	if err != nil {
		return err
	}

	used := 0 // bytes of field lines so far, CRLFs included
	for {
		// Up to the whole remaining budget, so the empty line that ends the
		// head still fits when the budget is used up; the check below then
		// counts the CRLF of a field line.
		raw, err := readLine(br, maxHeaderBytes-used, errHeaderTooBig)
		if err == io.EOF {
			return errHeadEndedEarly
		}
		if err != nil {
			return err
		}
		if len(raw) == 0 {
			break // the empty line: the head is complete
		}
		used += len(raw) + 2
		if used > maxHeaderBytes {
			return errHeaderTooBig
		}
		if len(req.Fields) == maxHeaderFields {
			return refuse(431, "more than %d header fields", maxHeaderFields)
		}
		f, err := parseField(last.text(1+len(req.Fields), raw))
		if err != nil {
			return err
		}
		req.Fields = append(req.Fields, f)
	}

	// RFC 9112 §3.2: Host tells which site is meant. HTTP/1.1 requires exactly
	// one; two, or one that is not a host, could make this server and a
	// proxy in front of it disagree about the site.
	hosts := 0
	for _, f := range req.Fields {
		if strings.EqualFold(f.Name, "Host") {
			hosts++
			if !isHost(f.Value) {
				return refuse(400, "Host header is not host[:port]")
			}
		}
	}
	if hosts > 1 {
		return refuse(400, "more than one Host header")
	}
	if hosts == 0 && req.Proto == "HTTP/1.1" {
		return refuse(400, "missing Host header")
	}
	return nil
}

// keptLines is the last head's request line and first 16 field lines, as
// strings. A kept-alive client sends the same lines request after request
// (the request line, Host, User-Agent, ...): a line that is byte for byte
// the one before it gets the old string instead of a new one.
type keptLines [1 + 16]string

// text is line as a string, the n-th line of its head. Comparing
// string(line) with a string copies nothing; only a changed line is
// converted, and kept for the next head. A nil l keeps nothing.
func (l *keptLines) text(n int, line []byte) string {
	if l == nil || n >= len(l) {
		return string(line)
	}
	if string(line) != l[n] {
		l[n] = string(line)
	}
	return l[n]
}

// readLine reads one line ending in CRLF and returns it without the CRLF.
// It is valid until br's next read: turn it into a string (keptLines.text)
// first. A line longer than limit bytes (CRLF excluded) gives tooLong, and
// at most limit+2 bytes plus one buffer's worth are ever read for it. A
// connection closed before the first byte gives io.EOF.
func readLine(br *bufio.Reader, limit int, tooLong error) ([]byte, error) {
	var line []byte
	for {
		// ReadSlice stops at '\n' or when br's buffer is full, so each piece
		// is bounded by the buffer size, never by what the client sends.
		piece, err := br.ReadSlice('\n')
		if len(line)+len(piece) > limit+2 {
			return nil, tooLong
		}
		if line == nil && err == nil {
			line = piece // the usual case, a whole line at once: no copy
			break
		}
		line = append(line, piece...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		if err == io.EOF {
			return nil, errHeadEndedEarly
		}
		if err != nil {
			return nil, err
		}
		break
	}
	// RFC 9112 §2.2 lets a recipient accept a bare LF; we do not, because two
	// programs that split lines differently can read two different requests.
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, refuse(400, "bare LF line ending")
	}
	line = line[:len(line)-2]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, refuse(400, "CR not followed by LF")
	}
	return line, nil
}

// parseRequestLine splits "METHOD SP TARGET SP VERSION" (RFC 9112 §3).
// (strings.Cut twice, not strings.Split: Split makes a slice for the parts.)
// With a refusal after the method, the method is returned too: the answer
// to a HEAD has no body, even a 400 or a 505.
func parseRequestLine(line string) (method, target, proto string, err error) {
	method, rest, _ := strings.Cut(line, " ")
	target, proto, _ = strings.Cut(rest, " ")
	if method == "" || target == "" || proto == "" || strings.Contains(proto, " ") {
		return "", "", "", refuse(400, "request line must be METHOD SP TARGET SP VERSION")
	}
	if !isToken(method) {
		return "", "", "", refuse(400, "method %q is not a token", method)
	}
	if err := checkTarget(method, target); err != nil {
		return method, "", "", err
	}
	// RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
	if len(proto) != 8 || !strings.HasPrefix(proto, "HTTP/") ||
		!isDigit(proto[5]) || proto[6] != '.' || !isDigit(proto[7]) {
		return method, "", "", refuse(400, "malformed HTTP version %q", proto)
	}
	// 505 is for a major version we do not speak (RFC 9110 §15.6.6). A later
	// minor version of HTTP/1 is read as the latest we know (RFC 9110 §2.5).
	if proto[5] != '1' {
		return method, "", "", refuse(505, "this server speaks HTTP/1.0 and HTTP/1.1, not %s", proto)
	}
	if proto != "HTTP/1.0" {
		proto = "HTTP/1.1"
	}
	return method, target, proto, nil
}

// checkTarget accepts the four request-target forms of RFC 9112 §3.2.
func checkTarget(method, target string) error {
	for i := 0; i < len(target); i++ {
		if target[i] < 0x21 || target[i] > 0x7e {
			return refuse(400, "request target contains byte 0x%02X", target[i])
		}
	}
	// A fragment ("#top") is for the client alone: it is not part of any
	// request-target form, and a server that kept it would hand the app a
	// path or query with "#..." glued on.
	if strings.IndexByte(target, '#') >= 0 {
		return refuse(400, "request target contains a fragment (#), which clients never send")
	}
	scheme := strings.ToLower(target[:min(len(target), 8)]) // schemes are case-insensitive
	switch {
	case method == "CONNECT":
		if !isAuthority(target) {
			return refuse(400, "CONNECT needs a host:port target")
		}
		// CONNECT asks for a tunnel, and any 2xx answer tells the client
		// the tunnel is open (RFC 9110 §9.3.6): it would read our body as
		// data from the far end. We open none, so 501 (RFC 9110 §9.1).
		return refuse(501, "CONNECT (a tunnel to %s) is not implemented", target)
	case target[0] == '/': // origin-form
	case strings.HasPrefix(scheme, "http://"), strings.HasPrefix(scheme, "https://"): // absolute-form
	case target == "*":
		if method != "OPTIONS" {
			return refuse(400, "target * is only for OPTIONS")
		}
	default:
		return refuse(400, "request target must start with / or http:// or https://")
	}
	return nil
}

// isAuthority reports whether s is host:port (authority-form), both parts
// present.
func isAuthority(s string) bool {
	host, port, ok := splitHost(s)
	return ok && host != "" && port != ""
}

// isHost reports whether v may be a Host value: uri-host [":" port]
// (RFC 9112 §3.2), or empty for a target without one.
func isHost(v string) bool {
	_, _, ok := splitHost(v)
	return ok
}

// splitHost splits uri-host [":" port] (RFC 3986 §3.2.2 and §3.2.3) and
// reports whether v follows that grammar. uri-host is an IPv6 address in
// brackets ("[::1]"), or a reg-name: letters, digits, "-._~", the
// sub-delims "!$&'()*+,;=" and %XX escapes. An IPv4 address ("127.0.0.1")
// is made of those characters too. The port is digits, possibly none.
// (RFC 3986's IPvFuture, "[v1.x]", is refused: no client sends it.)
func splitHost(v string) (host, port string, ok bool) {
	host, rest := v, ""
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", "", false
		}
		host, rest = v[:end+1], v[end+1:]
		ip, err := netip.ParseAddr(host[1:end])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", "", false
		}
	} else {
		if i := strings.IndexByte(v, ':'); i >= 0 {
			host, rest = v[:i], v[i:]
		}
		if !isRegName(host) {
			return "", "", false
		}
	}
	if rest != "" {
		port = rest[1:]
		if rest[0] != ':' || strings.Trim(port, "0123456789") != "" {
			return "", "", false // "a:b:c", "[::1]x" or "[::1]]:80"
		}
	}
	return host, port, true
}

// isRegName reports whether s is a reg-name (RFC 3986 §3.2.2).
func isRegName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		case !isDigit(c) && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') &&
			strings.IndexByte("-._~!$&'()*+,;=", c) < 0:
			return false
		}
	}
	return true
}

// parseField splits "name:value" (RFC 9112 §5).
func parseField(line string) (Field, error) {
	// §5.2: obs-fold continued a value on the next line; it is obsolete.
	if line[0] == ' ' || line[0] == '\t' {
		return Field{}, refuse(400, "obsolete line folding")
	}
	name, value, found := strings.Cut(line, ":")
	if !found {
		return Field{}, refuse(400, "header field line has no colon")
	}
	if name == "" {
		return Field{}, refuse(400, "empty header field name")
	}
	// §5.1: "Host : x" MUST be rejected; proxies have been fooled by it.
	if last := name[len(name)-1]; last == ' ' || last == '\t' {
		return Field{}, refuse(400, "whitespace before colon in header field")
	}
	if !isToken(name) {
		return Field{}, refuse(400, "header field name %q is not a token", name)
	}
	value = strings.Trim(value, " \t")
	// Bytes 0x80-0xFF (obs-text) pass through; control bytes never do.
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return Field{}, refuse(400, "header field %s has control byte 0x%02X in its value", name, c)
		}
	}
	return Field{Name: name, Value: value}, nil
}

// isToken reports whether s is a non-empty token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
