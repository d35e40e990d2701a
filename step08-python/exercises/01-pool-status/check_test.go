//go:build exercise

package exercise

import (
	"encoding/json"
	"mime"
	"strings"
	"testing"

	"example.com/wsgicourse/step08-python/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// pool is what an answer to GET /_pool says; -1 is a member that is missing.
type pool struct {
	Status                        int
	ContentType                   string
	Workers, Ready, Idle, Waiting int
}

func read(r *check.Response) pool {
	var body struct{ Workers, Ready, Idle, Waiting *int }
	json.Unmarshal(r.Body, &body)
	n := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return pool{r.Status, mediaType, n(body.Workers), n(body.Ready), n(body.Idle), n(body.Waiting)}
}

func TestPoolStatus(t *testing.T) {
	check.NeedPython(t)
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in testdata
	// The workers and the bodies get an hour: the check holds requests in
	// workers for as long as it needs, and never waits for either.
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-app", "hold:app", "-dir", "testdata",
		"-workers", "2", "-queue", "4", "-worker-timeout", "1h", "-body-timeout", "1h")
	conn := check.Dial(t, addr)
	status := func(what string, want pool) {
		t.Helper()
		if r := conn.Get("/_pool"); !r.Expect(t, what, want, read(r)) {
			t.FailNow() // what follows builds on this answer
		}
	}
	released := func(h *check.Held) {
		t.Helper()
		r := h.Release()
		r.Expect(t, "POST /hold, released", "released\n", strings.TrimPrefix(string(r.Body), h.First+"\n"))
	}

	status("GET /_pool, both workers idle", pool{200, "application/json", 2, 2, 2, 0})
	first := check.Dial(t, addr).Hold("/hold")
	status("GET /_pool, one worker holding a request ("+first.First+")", pool{200, "application/json", 2, 2, 1, 0})
	second := check.Dial(t, addr).Hold("/hold")
	// The point of answering /_pool in Go: it answers when no worker can.
	status("GET /_pool, both workers holding a request: it must not wait for one", pool{200, "application/json", 2, 2, 0, 0})

	// A third request waits in the queue; it is there soon, not at once.
	third := check.Dial(t, addr).SendHold("/hold")
	check.Eventually(t, `GET /_pool says "waiting": 1 while a third request waits for a worker`, func() bool {
		return read(conn.Get("/_pool")).Waiting == 1
	})
	status("GET /_pool, both workers busy and one request waiting", pool{200, "application/json", 2, 2, 0, 1})

	released(first)
	third.Wait() // it gets the worker the first one had
	status("GET /_pool, the waiting request now in the worker the first one freed", pool{200, "application/json", 2, 2, 0, 0})
	released(second)
	released(third)
	// A worker goes back to the pool just after its response has gone out.
	check.Eventually(t, `GET /_pool says "idle": 2 once every request has been answered`, func() bool {
		return read(conn.Get("/_pool")).Idle == 2
	})
	status("GET /_pool, every request answered", pool{200, "application/json", 2, 2, 2, 0})
}
