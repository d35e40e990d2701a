package main

import (
	"encoding/hex"
	"io"
	"net"
	"strings"
)

// buildEnviron turns a parsed request into the WSGI environ (PEP 3333).
//
// PEP 3333 wants every CGI value as a string of runes U+0000..U+00FF: each
// byte from the wire becomes the rune with the same number (Latin-1), so no
// byte is lost or rejected; latin1Bytes undoes it. Variables with no value
// (CONTENT_TYPE not sent, REMOTE_HOST: no reverse DNS) are left out, as the
// PEP allows.
func buildEnviron(req *Request, local, remote net.Addr, input io.Reader, errors io.Writer) (Environ, error) {
	return buildEnvironAt(req, environOf(local, remote), input, errors)
}

// environSize is room for the 17 keys every environ has, the headers of a
// usual request and the framework's own keys: a map made this large never
// grows (each growth is a new, larger table and a copy of every entry).
const environSize = 24

// buildEnvironAt is buildEnviron with what every request on the
// connection shares already worked out (once per connection, by handle).
func buildEnvironAt(req *Request, conn *connEnviron, input io.Reader, errors io.Writer) (Environ, error) {
	path, query, authority, err := splitTarget(req.Target)
	if err != nil {
		return nil, err
	}
	env := make(Environ, environSize)
	env["REQUEST_METHOD"] = boxed(req.Method)
	env["SCRIPT_NAME"] = "" // the app is mounted at the root of the server
	env["PATH_INFO"] = conn.path.box(unquotePath(path))
	env["QUERY_STRING"] = conn.query.box(latin1(query)) // raw: only the app knows how to decode it
	env["SERVER_NAME"] = conn.serverName.box(serverName(authority, req.Fields, conn.localHost))
	env["SERVER_PORT"] = conn.serverPort
	env["SERVER_PROTOCOL"] = boxed(req.Proto)
	env["REMOTE_ADDR"] = conn.remoteAddr
	env["GATEWAY_INTERFACE"] = "CGI/1.1"
	env["SERVER_SOFTWARE"] = serverSoftware // also the Server header

	env["wsgi.version"] = [2]int{1, 0}
	env["wsgi.url_scheme"] = "http"
	env["wsgi.input"] = input
	env["wsgi.errors"] = errors
	env["wsgi.multithread"] = true // one goroutine per connection, all calling the same App
	env["wsgi.multiprocess"] = false
	env["wsgi.run_once"] = false
	// Set only when sent, so an app can tell "no body declared" from an empty
	// one. RFC 3875 §4.1.3: CONTENT_TYPE has no default (wsgiref says text/plain).
	if v, ok := firstField(req.Fields, "Content-Type"); ok {
		env["CONTENT_TYPE"] = latin1(v)
	}
	if v, ok := firstField(req.Fields, "Content-Length"); ok {
		// newBody has already checked it: digits, or a list of the same
		// digits ("5, 5", RFC 9110 §8.6). CGI wants the number alone
		// (RFC 3875 §4.1.2), so keep the first element.
		length, _, _ := strings.Cut(v, ",")
		env["CONTENT_LENGTH"] = strings.TrimRight(length, " \t")
	}

	for i, f := range req.Fields {
		// X_Forwarded_For and X-Forwarded-For would both become
		// HTTP_X_FORWARDED_FOR; a proxy that strips the dash form lets the
		// underscore form through, so a client could forge it. Drop it.
		if strings.Contains(f.Name, "_") {
			continue
		}
		key := httpKey(f.Name)
		name := key[len("HTTP_"):]
		// Content-Type and Content-Length live above without HTTP_ (PEP 3333),
		// and a header named like a CGI variable (Path-Info:, Server-Name:)
		// is dropped rather than echoed, as wsgiref does.
		if _, isCGI := env[name]; isCGI {
			continue
		}
		value := latin1(f.Value)
		if earlier, repeated := env[key]; repeated {
			// RFC 9110 §5.3: repeated field lines join into one comma-separated
			// list. Cookie is not such a list: its pairs are separated by "; "
			// (RFC 6265 §5.4), the join RFC 9113 §8.2.3 prescribes.
			sep := ","
			if key == "HTTP_COOKIE" {
				sep = "; "
			}
			value = earlier.(string) + sep + value
		}
		if i < len(conn.fields) {
			env[key] = conn.fields[i].box(value)
		} else {
			env[key] = value
		}
	}
	return env, nil
}

// httpKey is a header's environ key: "User-Agent" gives "HTTP_USER_AGENT".
// (strings.ToUpper, ReplaceAll and + would make three strings; this, one.)
func httpKey(name string) string {
	var buf [64]byte
	key := append(buf[:0], "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		key = append(key, c)
	}
	// The usual headers' keys are made once, here: looking a []byte up
	// as string(key) in a map copies nothing, and a hit allocates nothing.
	if known, ok := knownHTTPKeys[string(key)]; ok {
		return known
	}
	return string(key)
}

// knownHTTPKeys are the environ keys of the headers browsers, curl and
// load testers send on nearly every request.
var knownHTTPKeys = map[string]string{}

func init() {
	for _, key := range []string{"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING",
		"HTTP_ACCEPT_LANGUAGE", "HTTP_CONNECTION", "HTTP_COOKIE", "HTTP_REFERER", "HTTP_CACHE_CONTROL",
		"HTTP_ORIGIN", "HTTP_UPGRADE_INSECURE_REQUESTS", "HTTP_X_REQUEST_ID", "HTTP_X_FORWARDED_FOR",
		"HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP", "HTTP_PRAGMA", "HTTP_SEC_FETCH_DEST",
		"HTTP_SEC_FETCH_MODE", "HTTP_SEC_FETCH_SITE", "HTTP_SEC_FETCH_USER", "HTTP_IF_NONE_MATCH",
		"HTTP_IF_MODIFIED_SINCE"} {
		knownHTTPKeys[key] = key
	}
}

// connEnviron is what the environs of one connection's requests have in
// common; handle makes one per connection. Putting a string into an `any`
// copies its header to the heap (one allocation). The addresses are the
// same for every request: they are put into an `any` once, and every
// request's environ gets a copy of that `any`, which allocates nothing.
// A keep-alive client also sends the same Host, often the same path, and
// the same headers in the same order, request after request: the last
// request's values are kept, boxed, and a value that repeats gets the
// same box again.
type connEnviron struct {
	localHost               string        // SERVER_NAME when the request names no host
	serverPort, remoteAddr  any           // strings, already in an any
	path, query, serverName lastBoxed     // the last request's values
	fields                  [16]lastBoxed // its header values, by their place in the head
}

func environOf(local, remote net.Addr) *connEnviron {
	localHost, localPort := splitAddr(local)
	remoteHost, _ := splitAddr(remote)
	return &connEnviron{localHost: localHost, serverPort: localPort, remoteAddr: remoteHost}
}

// lastBoxed is the last string one environ variable had on a connection,
// already in an `any`. Two environs may share the box: a string never
// changes, so neither app can tell.
type lastBoxed struct {
	s   string
	any any // s in an any; nil before the first request
}

// box is s in an `any`: the last one if s is the same string, else a new one.
func (l *lastBoxed) box(s string) any {
	if l.any == nil || s != l.s {
		l.s, l.any = s, s
	}
	return l.any
}

// boxed is s in an `any`: for the methods and versions nearly every
// request has, one made at start-up, so no allocation; else a new one.
func boxed(s string) any {
	if v, ok := boxedStrings[s]; ok {
		return v
	}
	return s
}

var boxedStrings = map[string]any{
	"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE",
	"PATCH": "PATCH", "OPTIONS": "OPTIONS", "HTTP/1.1": "HTTP/1.1", "HTTP/1.0": "HTTP/1.0",
}

// splitTarget splits a request-target (RFC 9112 §3.2) into its path, its raw
// query and, for the absolute form, its authority ("host:port").
func splitTarget(target string) (path, query, authority string, err error) {
	switch {
	case target == "*":
		// Asterisk-form (OPTIONS *) names the server, not a resource. Keep it
		// as "*" like wsgiref: an empty PATH_INFO would mean the app's root.
		return "*", "", "", nil
	case strings.HasPrefix(target, "/"):
		// Origin-form, the usual case. "//a" stays "//a" (wsgiref collapses it).
	default:
		// Absolute-form, "http://host:port/p?q". Servers must accept it
		// (RFC 9112 §3.2.2); the app only wants the path and query.
		scheme, rest, ok := strings.Cut(target, "://")
		if !ok || !(strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")) {
			return "", "", "", &statusError{Code: 400, Text: "request target is not a path, an http URI or *"}
		}
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		authority, target = rest[:end], rest[end:]
		// The authority becomes SERVER_NAME, so it must be a host. userinfo
		// ("user@host") must not be sent and is an error to a recipient
		// (RFC 9110 §4.2.4): a URL with a name and password in it.
		if strings.Contains(authority, "@") {
			return "", "", "", &statusError{Code: 400, Text: "request target has userinfo (user@) in its authority"}
		}
		if host, _, ok := splitHost(authority); !ok || host == "" {
			return "", "", "", &statusError{Code: 400, Text: "request target's authority is not host[:port]"}
		}
		if !strings.HasPrefix(target, "/") {
			target = "/" + target // "http://h?q" asks for the path "/"
		}
	}
	path, query, _ = strings.Cut(target, "?")
	return path, query, authority, nil
}

// unquotePath percent-decodes the path the way wsgiref does (Python's
// urllib.parse.unquote with Latin-1): "%XX" becomes that byte, so %2F turns
// into a "/" no one can tell from a real one, and a "%" not followed by two
// hex digits ("%zz") stays as it is.
func unquotePath(path string) string {
	if !strings.Contains(path, "%") {
		return latin1(path) // nothing to decode: no copy
	}
	var out []byte
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && i+3 <= len(path) {
			if b, err := hex.DecodeString(path[i+1 : i+3]); err == nil {
				out = append(out, b[0])
				i += 2
				continue
			}
		}
		out = append(out, path[i])
	}
	return latin1(string(out))
}

// serverName picks SERVER_NAME. PEP 3333 rebuilds URLs from HTTP_HOST and
// falls back to SERVER_NAME, so the name the client asked for is the useful
// one; RFC 9112 §3.2.2 says an absolute-form target's authority wins over
// Host. Without either, our own IP. (wsgiref asks DNS once at startup, which
// names the machine, not the site the client wanted.)
func serverName(authority string, fields []Field, localIP string) string {
	if authority == "" {
		authority, _ = firstField(fields, "Host")
	}
	if strings.Contains(localIP, ":") {
		localIP = "[" + localIP + "]" // IPv6 is bracketed, as in a URL (RFC 3875 §4.1.14)
	}
	// Drop the port: "example.com:8080" → "example.com", "[::1]:80" → "[::1]".
	// The parser (Host) and splitTarget (the authority) checked the grammar.
	host, _, _ := splitHost(authority)
	if host == "" {
		return localIP
	}
	return latin1(host)
}

// splitAddr splits "127.0.0.1:8004" or "[::1]:8004" into IP and port.
// An address without a port (net.Pipe's is "pipe") is all host.
func splitAddr(addr net.Addr) (host, port string) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String(), ""
	}
	return host, port
}

// firstField returns the value of the first field line called name;
// field names are case-insensitive (RFC 9110 §5.1).
func firstField(fields []Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// latin1 decodes wire bytes the PEP 3333 way: byte 0xE9 becomes rune U+00E9.
func latin1(s string) string {
	if isASCII(s) {
		return s // ASCII reads the same in Latin-1: no copy
	}
	runes := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		runes[i] = rune(s[i])
	}
	return string(runes)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// latin1Bytes turns an environ string back into the bytes that came off the
// wire: each rune (always U+0000..U+00FF here) becomes one byte. That is how
// an app reads UTF-8, like Python's .encode('latin-1').decode('utf-8'):
//
//	path := string(latin1Bytes(environ["PATH_INFO"].(string))) // "/café" for /caf%C3%A9
func latin1Bytes(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}
