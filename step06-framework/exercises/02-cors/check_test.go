//go:build exercise

package exercise

import (
	"net/http"
	"strings"
	"testing"

	"example.com/wsgicourse/step06-framework/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

const (
	allowed = "http://localhost:3000"
	other   = "http://evil.example"
)

// grant is what a response says to the browser about the page's origin.
type grant struct {
	Status         int
	AllowOrigin    string // Access-Control-Allow-Origin
	VariesByOrigin bool   // Vary names Origin: the answer depends on it
}

func read(r *check.Response) grant {
	return grant{r.Status, r.Header.Get("Access-Control-Allow-Origin"), lists(r.Header, "Vary", "origin")}
}

// lists reports whether the header name's comma-separated values include
// want, in any case.
func lists(h http.Header, name, want string) bool {
	for _, v := range h.Values(name) {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), want) {
				return true
			}
		}
	}
	return false
}

func TestCORS(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-cors-origin", allowed)
	conn := check.Dial(t, addr)

	r := conn.Get("/json", "Origin: "+allowed)
	r.Expect(t, "GET /json from the allowed origin", grant{200, allowed, true}, read(r))

	// An error page is read by the page's script too: it needs the grant.
	r = conn.Get("/nowhere", "Origin: "+allowed)
	r.Expect(t, "GET /nowhere (a 404) from the allowed origin", grant{404, allowed, true}, read(r))

	r = conn.Get("/json", "Origin: "+other)
	got := read(r)
	r.Expect(t, "GET /json from another origin: no grant", grant{200, "", got.VariesByOrigin}, got)

	r = conn.Get("/json")
	got = read(r)
	r.Expect(t, "GET /json with no Origin: no grant", grant{200, "", got.VariesByOrigin}, got)

	// The preflight: before a POST of JSON from another origin, a browser
	// asks with OPTIONS whether it may. The router alone would say 405.
	preflight := func(origin string) *check.Response {
		return conn.Send(conn.Request("OPTIONS", "/echo", "Origin: "+origin,
			"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type"))
	}
	r = preflight(allowed)
	type answer struct {
		Success      bool // 2xx
		AllowOrigin  string
		AllowsPOST   bool // Access-Control-Allow-Methods lists POST (or *)
		AllowsHeader bool // Access-Control-Allow-Headers lists Content-Type (or *)
		Body         string
	}
	r.Expect(t, "OPTIONS /echo, a preflight from the allowed origin",
		answer{true, allowed, true, true, ""},
		answer{r.Status/100 == 2, r.Header.Get("Access-Control-Allow-Origin"),
			lists(r.Header, "Access-Control-Allow-Methods", "POST") || lists(r.Header, "Access-Control-Allow-Methods", "*"),
			lists(r.Header, "Access-Control-Allow-Headers", "content-type") || lists(r.Header, "Access-Control-Allow-Headers", "*"),
			string(r.Body)})

	r = preflight(other)
	r.Expect(t, "OPTIONS /echo, a preflight from another origin: no grant", "",
		r.Header.Get("Access-Control-Allow-Origin")+r.Header.Get("Access-Control-Allow-Methods"))

	// And the POST itself, on the same connection.
	r = conn.Send(conn.Request("POST", "/echo", "Origin: "+allowed, "Content-Type: application/json", "Content-Length: 7") + `{"a":1}`)
	r.Expect(t, "POST /echo from the allowed origin", struct {
		Grant grant
		Body  string
	}{grant{200, allowed, true}, `{"a":1}`}, struct {
		Grant grant
		Body  string
	}{read(r), string(r.Body)})
}
