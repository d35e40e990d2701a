package transcript

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Reproduce returns a shell command that sends request to a step running
// on addr. A well-formed, simple request becomes a curl command; anything
// curl cannot send byte for byte (bad syntax, odd framing) becomes printf
// piped into nc.
func Reproduce(request []byte, addr string) string {
	if cmd, ok := curlCommand(request, addr); ok {
		return cmd
	}
	host, port, _ := strings.Cut(addr, ":")
	return fmt.Sprintf("printf '%s' | nc %s %s", printfEscape(request), host, port)
}

func curlCommand(request []byte, addr string) (string, bool) {
	head, body, ok := bytes.Cut(request, []byte("\r\n\r\n"))
	if !ok || !printable(head) || !printable(body) {
		return "", false
	}
	lines := strings.Split(string(head), "\r\n")
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[1], "/") || strings.Contains(parts[1], "#") {
		return "", false // curl would keep a fragment (#x) to itself
	}
	// curl must send the request's own version: an HTTP/1.0 request
	// replayed as HTTP/1.1 gets another answer (chunked, kept alive).
	version, known := curlVersions[parts[2]]
	if !known {
		return "", false
	}
	cmd := []string{"curl -v " + version}
	if hasDotSegment(parts[1]) {
		cmd = append(cmd, "--path-as-is") // curl would resolve /a/../b to /b before sending it
	}
	switch {
	case parts[0] == "HEAD":
		cmd = append(cmd, "--head")
	case parts[0] != "GET" || len(body) > 0:
		cmd = append(cmd, "-X "+parts[0])
	}
	framedBody := len(body) == 0
	hosts := 0
	// curl adds a User-Agent and an Accept of its own, and a form
	// Content-Type to a body; an empty -H removes one the request lacks.
	own := map[string]bool{"user-agent": false, "accept": false, "content-type": false}
	for _, field := range lines[1:] {
		name, value, ok := strings.Cut(field, ":")
		if !ok || !isToken(name) {
			// No colon, a space before it, or a folded line (obs-fold):
			// curl would send its own, well-formed version of the line.
			return "", false
		}
		switch lower := strings.ToLower(name); {
		case lower == "content-length":
			// curl sends its own, counted from --data-binary: only right
			// when the request's says the same. With no body it sends
			// none, so an explicit "Content-Length: 0" goes as it is.
			framedBody = strings.TrimSpace(value) == strconv.Itoa(len(body))
			if len(body) == 0 {
				cmd = append(cmd, "-H "+shellQuote(field))
			}
		case lower == "host":
			hosts++ // curl sends its own, for the address it is given...
			if host := strings.TrimSpace(value); host != addr {
				cmd = append(cmd, "-H "+shellQuote("Host: "+host)) // ...unless told another
			}
		case lower == "transfer-encoding":
			return "", false
		default:
			if _, ok := own[lower]; ok {
				own[lower] = true
			}
			cmd = append(cmd, "-H "+shellQuote(field))
		}
	}
	if hosts != 1 || !framedBody {
		// curl always sends exactly one Host; and bytes after the head
		// that are not its body are a pipelined request, say.
		return "", false
	}
	added := []string{"User-Agent", "Accept"}
	if len(body) > 0 {
		added = append(added, "Content-Type") // what --data-binary adds
	}
	for _, name := range added {
		if !own[strings.ToLower(name)] {
			cmd = append(cmd, "-H '"+name+":'")
		}
	}
	if len(body) > 0 {
		cmd = append(cmd, "--data-binary "+shellQuote(string(body)))
	}
	cmd = append(cmd, shellQuote("http://"+addr+parts[1]))
	return strings.Join(cmd, " "), true
}

// hasDotSegment reports whether target's path has a "." or ".." segment.
func hasDotSegment(target string) bool {
	path, _, _ := strings.Cut(target, "?")
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// curlVersions is the curl option that sends each HTTP version.
var curlVersions = map[string]string{"HTTP/1.1": "--http1.1", "HTTP/1.0": "--http1.0"}

// isToken reports whether s is an RFC 9110 token, as a field name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\r' && c != '\n' || c >= 0x7f {
			return false
		}
	}
	return true
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printfEscape writes bytes so that printf(1) reproduces them exactly.
func printfEscape(b []byte) string {
	var out strings.Builder
	for _, c := range b {
		switch {
		case c == '\r':
			out.WriteString(`\r`)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\\':
			out.WriteString(`\\`)
		case c == '%':
			out.WriteString("%%")
		case c == '\'':
			out.WriteString(`'\''`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&out, `\%03o`, c)
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}
