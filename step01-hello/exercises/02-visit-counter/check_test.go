//go:build exercise

package exercise

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"example.com/wsgicourse/step01-hello/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// clients is how many requests arrive at once: each on its own
// connection, all sent before any answer is read, so the server runs
// them side by side.
const clients = 32

var number = regexp.MustCompile(`[0-9]+`)

// Every GET /visits gets the next number, even when many arrive at once;
// each answer is one a WSGI validator would pass; other paths still say
// hello.
func TestVisitCounter(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	conns := make([]*check.Conn, clients)
	for i := range conns {
		conns[i] = check.Dial(t, addr)
		conns[i].Write(conns[i].Request("GET", "/visits"))
	}
	var counts []int
	for _, c := range conns {
		counts = append(counts, visit(c.Read("GET")))
	}
	slices.Sort(counts)
	want := make([]int, clients)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(counts, want) {
		t.Errorf("%d requests at once got the visit numbers %v, want 1 to %d, each once: "+
			"two requests that read the count at the same moment got the same number "+
			"(run the step with go run -race and watch)", clients, counts, clients)
	}

	// The count lives in the value, not in a connection: one more
	// request, on a connection already used, is the next visit.
	r := conns[0].Get("/visits")
	r.Expect("the visit after all the others", clients+1, visit(r))

	r = check.Dial(t, addr).Get("/")
	r.Validate()
	r.Expect("GET /, which still says hello", "Hello, world!\n", string(r.Body))
}

// visit checks one answer to GET /visits and returns its number.
func visit(r *check.Response) int {
	r.Validate()
	if r.Status != 200 {
		r.Fatalf("GET /visits: status %d, want 200 (does your App call startResponse before it returns?)", r.Status)
	}
	n, err := strconv.Atoi(number.FindString(string(r.Body)))
	if err != nil {
		r.Fatalf("GET /visits: the body %q holds no visit number", r.Body)
	}
	return n
}
