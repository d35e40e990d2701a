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
	if len(parts) != 3 || !strings.HasPrefix(parts[1], "/") {
		return "", false
	}
	// curl must send the request's own version: an HTTP/1.0 request
	// replayed as HTTP/1.1 gets another answer (chunked, kept alive).
	version, known := curlVersions[parts[2]]
	if !known {
		return "", false
	}
	cmd := []string{"curl -v " + version}
	switch {
	case parts[0] == "HEAD":
		cmd = append(cmd, "--head")
	case parts[0] != "GET" || len(body) > 0:
		cmd = append(cmd, "-X "+parts[0])
	}
	framedBody := len(body) == 0
	for _, field := range lines[1:] {
		name, value, _ := strings.Cut(field, ":")
		if strings.EqualFold(name, "Content-Length") {
			// curl sends its own, counted from --data-binary: only right
			// when the request's says the same.
			framedBody = strings.TrimSpace(value) == strconv.Itoa(len(body))
			continue
		}
		if strings.EqualFold(name, "Host") {
			continue // curl sends its own
		}
		if strings.EqualFold(name, "Transfer-Encoding") {
			return "", false
		}
		cmd = append(cmd, "-H "+shellQuote(field))
	}
	if !framedBody {
		return "", false // bytes after the head that are not its body: a pipelined request, say
	}
	if len(body) > 0 {
		cmd = append(cmd, "--data-binary "+shellQuote(string(body)))
	}
	cmd = append(cmd, shellQuote("http://"+addr+parts[1]))
	return strings.Join(cmd, " "), true
}

// curlVersions is the curl option that sends each HTTP version.
var curlVersions = map[string]string{"HTTP/1.1": "--http1.1", "HTTP/1.0": "--http1.0"}

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
