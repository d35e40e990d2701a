//go:build exercise

package exercise

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"example.com/wsgicourse/step01-hello/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// GET /bytes?n=N streams N bytes of "x"; a bad n gets a 400 that says
// why. The answers share one connection, so each body must end where its
// framing says.
func TestStreamBytes(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	c := check.Dial(t, addr)
	for _, n := range []int{1000000, 0, 3} {
		target := "/bytes?n=" + strconv.Itoa(n)
		r := c.Get(target)
		r.Validate()
		r.Expect("GET "+target+": the status", 200, r.Status)
		r.Expect("GET "+target+": the body's length", n, len(r.Body))
		if others := len(bytes.Trim(r.Body, "x")); others > 0 {
			r.Errorf("GET %s: the body holds bytes other than x", target)
		}
	}

	type answer struct {
		Status   int
		OneLine  bool // the body is one line of text, saying what n takes
		Reusable bool // the connection stays open for the next request
	}
	for _, query := range []string{"n=abc", "n=-1", "n=", "", "n=1.5", "n=1073741825", "n=99999999999999999999"} {
		target := "/bytes?" + query
		r := c.Get(target)
		r.Validate()
		body := string(r.Body)
		oneLine := strings.HasSuffix(body, "\n") && strings.Count(body, "\n") == 1 && len(body) > 1
		r.Expect("GET "+target, answer{400, true, true}, answer{r.Status, oneLine, !r.Closed})
	}

	r := c.Get("/")
	r.Expect("GET /, which still says hello", "Hello, world!\n", string(r.Body))
}
