//go:build exercise

package exercise

import (
	"testing"

	"example.com/wsgicourse/step02-socket/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// GET /echo answers with the request head, byte for byte: request line,
// header lines and the blank line, CRLFs and odd spacing as sent.
func TestEchoHead(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	type answer struct {
		Status int
		Body   string
	}
	for _, target := range []string{"/echo", "/echo?x=1&y=%20"} {
		head := "GET " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: check\r\nX-Spaced:   as sent  \r\n\r\n"
		r := check.Dial(t, addr).Send(head)
		r.Expect("GET "+target, answer{200, head}, answer{r.Status, string(r.Body)})
	}

	// The head only: a body that follows it is not part of the echo.
	head := "POST /echo HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: 11\r\n\r\n"
	r := check.Dial(t, addr).Send(head + "name=gopher")
	r.Expect("POST /echo with a body", answer{200, head}, answer{r.Status, string(r.Body)})

	// Only /echo echoes; every other path keeps the greeting.
	for _, target := range []string{"/", "/echoes", "/echo/more"} {
		r := check.Dial(t, addr).Get(target)
		r.Expect("GET "+target, answer{200, "Hello, world!\n"}, answer{r.Status, string(r.Body)})
	}
}
