//go:build exercise

package exercise

import (
	"slices"
	"strings"
	"testing"

	"example.com/wsgicourse/step02-socket/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// A method the server does not answer gets 405 with an Allow header
// that lists the ones it does; those keep their 200.
func TestMethodNotAllowed(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	type answer struct {
		Status  int
		Allow   []string // sorted; the order on the wire is free
		OneLine bool     // the body is one line of text, saying why
		Closed  bool
	}
	refused := answer{405, []string{"GET", "HEAD", "POST"}, true, true}
	for _, request := range []string{
		"PUT /x HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: 5\r\n\r\nhello",
		"DELETE /x HTTP/1.1\r\nHost: " + addr + "\r\n\r\n",
		"PATCH / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n",
		"BREW /pot HTTP/1.1\r\nHost: " + addr + "\r\n\r\n",
		// Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
		"get / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n",
	} {
		r := check.Dial(t, addr).Send(request)
		line, _, _ := strings.Cut(request, "\r\n")
		r.Expect(line, refused, answer{r.Status, allowed(r.Header.Values("Allow")), oneLine(r.Body), r.Closed})
	}

	for _, method := range []string{"GET", "HEAD", "POST"} {
		c := check.Dial(t, addr)
		r := c.Send(c.Request(method, "/"))
		r.Expect(method+" /: the status", 200, r.Status)
	}
}

// allowed is the methods an Allow header lists, sorted: "GET, HEAD" and
// "HEAD,GET" are the same answer.
func allowed(values []string) []string {
	var methods []string
	for _, v := range values {
		for m := range strings.SplitSeq(v, ",") {
			methods = append(methods, strings.TrimSpace(m))
		}
	}
	slices.Sort(methods)
	return methods
}

func oneLine(body []byte) bool {
	return len(body) > 1 && strings.Count(string(body), "\n") == 1 && strings.HasSuffix(string(body), "\n")
}
