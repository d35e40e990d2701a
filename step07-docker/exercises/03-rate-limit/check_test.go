//go:build exercise

package exercise

import (
	"strconv"
	"strings"
	"testing"

	"example.com/wsgicourse/step07-docker/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// limited is what an answer says about the client's limit.
type limited struct {
	Status        int
	RetryAfterOK  bool // Retry-After is a whole number of seconds within the window
	SaysSomething bool // a body that tells a person what happened
}

func read(r *check.Response) limited {
	seconds, err := strconv.Atoi(r.Header.Get("Retry-After"))
	return limited{r.Status, err == nil && seconds >= 1 && seconds <= 3600, len(strings.TrimSpace(string(r.Body))) > 0}
}

func TestRateLimit(t *testing.T) {
	// An hour's window: the check never waits for it to end.
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-rate-limit", "3/1h")
	conn := check.Dial(t, addr)

	for i := 1; i <= 3; i++ {
		r := conn.Get("/json")
		r.Expect(t, "GET /json, request "+strconv.Itoa(i)+" of the 3 a client may make", 200, r.Status)
	}
	r := conn.Get("/json")
	r.Expect(t, "GET /json, request 4: over the limit", limited{429, true, true}, read(r))
	// Refusing a request is no reason to drop the connection.
	r = conn.Get("/hello/again")
	r.Expect(t, "GET /hello/again, request 5, on the same connection: still over", limited{429, true, true}, read(r))

	// The health probe is never limited: a platform that gets a 429 from
	// it restarts a server that is merely busy.
	r = conn.Get("/healthz")
	r.Expect(t, "GET /healthz from a client over its limit", 200, r.Status)

	// The limit is per client: another address has its own.
	if other, ok := check.DialFrom(t, addr, "127.0.0.2"); ok {
		r := other.Get("/json")
		r.Expect(t, "GET /json from 127.0.0.2, another client", 200, r.Status)
	}

	for _, bad := range []string{"3", "0/1m", "3/0s", "x/1m", "3/soon"} {
		code, stderr := check.Exit(t, "../..", "-addr", "127.0.0.1:0", "-rate-limit", bad)
		if first, _, _ := strings.Cut(stderr, "\n"); code != 2 || !strings.Contains(first, "-rate-limit") {
			t.Errorf("started with -rate-limit %s: exit status %d, first line %q; want exit status 2 and a line naming -rate-limit", bad, code, first)
		}
	}
}
