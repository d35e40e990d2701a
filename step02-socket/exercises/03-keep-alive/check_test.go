//go:build exercise

package exercise

import (
	"fmt"
	"strings"
	"testing"

	"example.com/wsgicourse/step02-socket/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

type answer struct {
	Status     int
	Body       string
	Connection string // the response's Connection header, lower case
}

// A request that asks for keep-alive and has no body leaves the
// connection open for the next one, even when the next one has already
// arrived (pipelined); a request with a body, or without the ask, still
// ends it.
func TestKeepAlive(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	greeting := func(connection string) answer { return answer{200, "Hello, world!\n", connection} }

	// Three requests in one write: the second and third are in the
	// server's buffer before it has answered the first.
	c := check.Dial(t, addr)
	c.Write(c.Request("GET", "/one", "Connection: keep-alive") +
		c.Request("GET", "/two", "Connection: Keep-Alive") +
		c.Request("GET", "/three", "Connection: close"))
	for i, connection := range []string{"keep-alive", "keep-alive", "close"} {
		r := c.Read("GET")
		r.Expect(fmt.Sprintf("response %d of 3 requests sent together", i+1), greeting(connection), got(r))
	}
	c.ExpectClosed()

	// One after another, each sent once the last answer is in.
	c = check.Dial(t, addr)
	for i := range 3 {
		r := c.Get("/", "Connection: keep-alive")
		r.Expect(fmt.Sprintf("request %d of 3 on one connection", i+1), greeting("keep-alive"), got(r))
	}

	// This server reads no bodies, so after one it cannot tell where the
	// next request starts: it must close, whatever the client asked.
	c = check.Dial(t, addr)
	r := c.Send("POST /form HTTP/1.1\r\nHost: " + addr + "\r\nConnection: keep-alive\r\nContent-Length: 11\r\n\r\nname=gopher")
	r.Expect("a POST with a body, asking for keep-alive", greeting("close"), got(r))
	c.ExpectClosed()

	// Not asked: closed, as before.
	c = check.Dial(t, addr)
	r = c.Get("/")
	r.Expect("a request that does not ask for keep-alive", greeting("close"), got(r))
	c.ExpectClosed()
}

func got(r *check.Response) answer {
	connection := strings.ToLower(r.Header.Get("Connection"))
	if r.Closed {
		connection = "close" // Go's reader takes "Connection: close" out of the header
	}
	return answer{r.Status, string(r.Body), connection}
}
