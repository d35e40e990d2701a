//go:build exercise

package exercise

import (
	"strings"
	"testing"

	"example.com/wsgicourse/step05-start-response/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// counted is what a response says about the count it carries.
type counted struct {
	Status  int
	Chunked bool
	Body    string
}

func TestCountChunks(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	conn := check.Dial(t, addr)

	r := conn.Get("/count?to=3")
	r.Expect(t, "GET /count?to=3: three numbers, three chunks", counted{200, true, "1\n2\n3\n"},
		counted{r.Status, r.Chunked, string(r.Body)})
	r.Expect(t, "GET /count?to=3: the Content-Type", true,
		strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain"))

	// The same connection again: the framing told the client where the
	// first body ended, so the connection can carry another request.
	r = conn.Get("/count?to=1")
	r.Expect(t, "GET /count?to=1 on the same connection", counted{200, r.Chunked, "1\n"},
		counted{r.Status, r.Chunked, string(r.Body)})

	r = conn.Send(conn.Request("HEAD", "/count?to=3"))
	r.Expect(t, "HEAD /count?to=3: the headers GET gets, no body", counted{200, true, ""},
		counted{r.Status, r.Chunked, string(r.Body)})

	for _, target := range []string{"/count", "/count?to=zero", "/count?to=0", "/count?to=101", "/count?to=-2"} {
		r := check.Dial(t, addr).Get(target)
		r.Expect(t, "GET "+target+": a 400 that says what to takes", struct {
			Status     int
			SaysWhatTo bool
		}{400, true}, struct {
			Status     int
			SaysWhatTo bool
		}{r.Status, strings.Contains(string(r.Body), "to")})
	}
}
