// Package transcript reads, replays and compares the course's golden files:
// raw HTTP exchanges stored as txtar archives with every line ending spelled
// out, so a missing \r is visible in a file, in a diff and on GitHub.
package transcript

import (
	"fmt"
	"strconv"
	"strings"
)

// Encode spells out wire bytes as text: one wire line per physical line,
// each ending with its terminator written as an escape (\r\n or \n).
// Bytes a reader could not see (control bytes, non-ASCII, backslash) are
// escaped too, so every byte value survives a round trip through a file.
func Encode(wire []byte) string {
	var b strings.Builder
	for i, c := range wire {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
			// A wire line ends here; the physical newline is only layout.
			// A final line without \n stays unterminated on the wire.
			if i < len(wire)-1 {
				b.WriteByte('\n')
			}
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	if len(wire) > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

// Decode is the inverse of Encode. Physical line breaks (and a stray \r
// from a CRLF checkout) carry no meaning: only escapes produce CR and LF.
func Decode(text string) ([]byte, error) {
	wire := []byte{} // an empty section is "nothing on the wire", not "missing"
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' || c == '\r' {
			continue
		}
		if c != '\\' {
			wire = append(wire, c)
			continue
		}
		if i+1 >= len(text) {
			return nil, fmt.Errorf("offset %d: lone backslash at the end (write \\\\ for one)", i)
		}
		i++
		switch text[i] {
		case '\\':
			wire = append(wire, '\\')
		case 'r':
			wire = append(wire, '\r')
		case 'n':
			wire = append(wire, '\n')
		case 't':
			wire = append(wire, '\t')
		case 'x':
			if i+2 >= len(text) {
				return nil, fmt.Errorf("offset %d: \\x needs two hex digits", i-1)
			}
			v, err := strconv.ParseUint(text[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("offset %d: bad escape \\x%s", i-1, text[i+1:i+3])
			}
			wire = append(wire, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("offset %d: unknown escape \\%c (use \\\\ \\r \\n \\t or \\xNN)", i-1, text[i])
		}
	}
	return wire, nil
}

// Lines splits wire bytes after each \n and escapes each line, the form
// the comparison works on: go-cmp then shows every terminator in a diff.
func Lines(wire []byte) []string {
	lines := strings.SplitAfter(Encode(wire), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l != "" {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}
