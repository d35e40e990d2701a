//go:build exercise

package exercise

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"example.com/wsgicourse/step05-start-response/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// kept is what an answer to an HTTP/1.0 client says about its connection.
type kept struct {
	Status        int
	Body          string
	SaysKeepAlive bool // Connection: keep-alive, which an HTTP/1.0 client needs to hear
	Closes        bool // the server closes the connection after it
}

func answer(r *check.Response) kept {
	return kept{r.Status, string(r.Body), saysKeepAlive(r.Header), r.Closed}
}

func saysKeepAlive(h http.Header) bool {
	return slices.ContainsFunc(h.Values("Connection"), func(v string) bool {
		return strings.Contains(strings.ToLower(v), "keep-alive")
	})
}

const sizedBody = "three chunks, one Content-Length from the app\n"

func TestHTTP10KeepAlive(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")

	// Asked for, with a body whose length is known: kept, and said so.
	conn := check.Dial(t, addr)
	r := conn.Send("GET /sized HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	r.Expect(t, "HTTP/1.0 with Connection: keep-alive, the app's Content-Length", kept{200, sizedBody, true, false}, answer(r))
	if r.Closed {
		t.FailNow() // the next request could not go on this connection
	}
	r = conn.Send("GET /sized HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
	r.Expect(t, "a second HTTP/1.0 keep-alive request on the same connection", kept{200, sizedBody, true, false}, answer(r))
	if r.Closed {
		t.FailNow()
	}

	// A body the server must measure itself (one chunk) keeps it too.
	r = conn.Send("GET /environ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	r.Expect(t, "HTTP/1.0 keep-alive, a one-chunk body the server measures", struct {
		Status        int
		SaysKeepAlive bool
		Closes        bool
		HasLength     bool
	}{200, true, false, true}, struct {
		Status        int
		SaysKeepAlive bool
		Closes        bool
		HasLength     bool
	}{r.Status, saysKeepAlive(r.Header), r.Closed, r.Header.Get("Content-Length") != ""})
	if r.Closed {
		t.FailNow()
	}

	// Length unknown: HTTP/1.0 has no chunked framing, so only the close
	// can end the body, whatever the client asked.
	r = conn.Send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	r.Expect(t, "HTTP/1.0 keep-alive, a body of unknown length", kept{200, "one\ntwo\nthree\n", false, true}, answer(r))

	// Not asked for: HTTP/1.0 closes, as before.
	r = check.Dial(t, addr).Send("GET /sized HTTP/1.0\r\n\r\n")
	r.Expect(t, "HTTP/1.0 without keep-alive", kept{200, sizedBody, false, true}, answer(r))
}
