//go:build exercise

package exercise

import (
	"strings"
	"testing"

	"example.com/wsgicourse/step03-parse/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// With -host example.com the server answers requests for that name only
// (any case, any port); one that names another host, in Host or in an
// absolute-form target (which wins over Host), gets 421.
func TestOneHost(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-host", "example.com")
	type answer struct {
		Status  string
		OneLine bool // the body: one line that says why
		Closed  bool
	}
	refused := answer{"421 Misdirected Request", true, true}
	for _, tt := range []struct {
		request string
		served  bool
	}{
		{"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: EXAMPLE.com:8003\r\n\r\n", true},
		{"GET http://example.com:8003/ HTTP/1.1\r\nHost: other.example\r\n\r\n", true},
		{"GET /old HTTP/1.0\r\n\r\n", true}, // no name at all: this server's site
		{"GET / HTTP/1.1\r\nHost: other.example\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", false}, // the address is not the name
		{"GET / HTTP/1.1\r\nHost: example.com.evil\r\n\r\n", false},
		{"GET http://other.example/ HTTP/1.1\r\nHost: example.com\r\n\r\n", false},
	} {
		r := check.Dial(t, addr).Send(tt.request)
		line, _, _ := strings.Cut(tt.request, "\r\n")
		what := line + ", for " + hostOf(tt.request)
		if tt.served {
			r.Expect(what, "200 OK", r.StatusText)
		} else {
			r.Expect(what, refused, answer{r.StatusText, r.OneLine(), r.Closed})
		}
	}
}

// hostOf names the Host line of a request, for the report.
func hostOf(request string) string {
	for line := range strings.SplitSeq(request, "\r\n") {
		if host, ok := strings.CutPrefix(line, "Host: "); ok {
			return "Host " + host
		}
	}
	return "no Host"
}
