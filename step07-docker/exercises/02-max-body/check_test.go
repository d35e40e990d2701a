//go:build exercise

package exercise

import (
	"fmt"
	"strings"
	"testing"

	"example.com/wsgicourse/step07-docker/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// post sends a body of n bytes to /environ, which reads it all and says
// how much it read; chunked sends it in two chunks, with no Content-Length.
func post(t *testing.T, addr string, n int, chunked bool) *check.Response {
	conn := check.Dial(t, addr)
	body := strings.Repeat("x", n)
	if chunked {
		half := n / 2
		return conn.Send(conn.Request("POST", "/environ", "Transfer-Encoding: chunked") +
			fmt.Sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", half, body[:half], n-half, body[half:]))
	}
	return conn.Send(conn.Request("POST", "/environ", fmt.Sprintf("Content-Length: %d", n)) + body)
}

// taken is what the answer to a body says: its status, and for a 200 how
// much of the body the app read.
type taken struct {
	Status int
	Read   string
}

func read(r *check.Response, n int) taken {
	got := taken{Status: r.Status}
	if r.Status == 200 {
		got.Read = fmt.Sprint(strings.Contains(string(r.Body), fmt.Sprintf("body: %d bytes read", n)))
	}
	return got
}

func expectLimit(t *testing.T, addr, setting string, limit int) {
	t.Helper()
	for _, chunked := range []bool{false, true} {
		framing := "Content-Length"
		if chunked {
			framing = "chunked"
		}
		r := post(t, addr, limit, chunked)
		r.Expect(t, fmt.Sprintf("POST /environ, %d bytes (%s), %s: taken", limit, framing, setting), taken{200, "true"}, read(r, limit))
		r = post(t, addr, limit+1, chunked)
		r.Expect(t, fmt.Sprintf("POST /environ, %d bytes (%s), %s: too large", limit+1, framing, setting), taken{413, ""}, read(r, limit+1))
	}
}

func TestMaxBody(t *testing.T) {
	t.Setenv("MAX_BODY", "100") // the step is started with this environment
	expectLimit(t, transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0"), "MAX_BODY=100", 100)

	// The command line wins over the environment, as -addr does over ADDR.
	expectLimit(t, transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-max-body", "50"), "MAX_BODY=100 and -max-body 50", 50)

	// A limit that cannot work stops the server at once, naming it.
	for _, c := range []struct {
		env  string
		args []string
		name string
	}{
		{"lots", nil, "MAX_BODY"},
		{"0", nil, "MAX_BODY"},
		{"", []string{"-max-body", "0"}, "-max-body"},
		{"", []string{"-max-body", "2000000"}, "-max-body"}, // over the 1 MiB the server's memory budget counts on
	} {
		t.Setenv("MAX_BODY", c.env)
		code, stderr := check.Exit(t, "../..", append([]string{"-addr", "127.0.0.1:0"}, c.args...)...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || !strings.Contains(first, c.name) {
			t.Errorf("started with MAX_BODY=%q and %q: exit status %d, first line %q; want exit status 2 and a line naming %s",
				c.env, c.args, code, first, c.name)
		}
	}
}
