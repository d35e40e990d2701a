//go:build exercise

package exercise

import (
	"encoding/json"
	"testing"

	"example.com/wsgicourse/step06-framework/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// sum is what an answer to /add says.
type sum struct {
	Status      int
	ContentType string
	Sum         *int64 // the "sum" member of the JSON object; nil if there is none
}

func read(r *check.Response) sum {
	var body struct{ Sum *int64 }
	json.Unmarshal(r.Body, &body)
	return sum{r.Status, r.Header.Get("Content-Type"), body.Sum}
}

func ptr(n int64) *int64 { return &n }

func TestTwoParams(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	conn := check.Dial(t, addr)

	for _, c := range []struct {
		target string
		sum    int64
	}{{"/add/2/3", 5}, {"/add/-7/2", -5}, {"/add/0/0", 0}} {
		r := conn.Get(c.target)
		r.Expect(t, "GET "+c.target, sum{200, "application/json", ptr(c.sum)}, read(r))
	}

	// Not numbers: the client's mistake, said with an error page.
	for _, target := range []string{"/add/two/3", "/add/2/3.5"} {
		r := conn.Get(target)
		r.Expect(t, "GET "+target+": a 400", 400, r.Status)
	}

	// The router's own answers, now that the route exists.
	for _, target := range []string{"/add/2", "/add/2/3/4"} {
		r := conn.Get(target)
		r.Expect(t, "GET "+target+": no such route", 404, r.Status)
	}
	r := conn.Send(conn.Request("POST", "/add/2/3", "Content-Length: 0"))
	r.Expect(t, "POST /add/2/3: the route answers GET (and HEAD) only", struct {
		Status int
		Allow  string
	}{405, "GET, HEAD"}, struct {
		Status int
		Allow  string
	}{r.Status, r.Header.Get("Allow")})
}
