//go:build exercise

package exercise

import (
	"fmt"
	"testing"

	"example.com/wsgicourse/step03-parse/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// limit is the -max-fields the check runs the step with.
const limit = 3

// With -max-fields 3 a head of three field lines is served; a fourth
// line gets 431 at once, before the head is over: a bound that waits for
// the rest of the head bounds nothing.
func TestMaxFields(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-max-fields", fmt.Sprint(limit))
	fields := func(n int) string { // Host, then n-1 more
		lines := "Host: " + addr + "\r\n"
		for i := 1; i < n; i++ {
			lines += fmt.Sprintf("X-Field-%d: %d\r\n", i, i)
		}
		return lines
	}
	type answer struct {
		Status  int
		OneLine bool // a one-line reason, as every refusal of this step has
		Closed  bool
	}

	r := check.Dial(t, addr).Send("GET / HTTP/1.1\r\n" + fields(limit) + "\r\n")
	r.Expect(fmt.Sprintf("a head of %d field lines", limit), 200, r.Status)

	refused := answer{431, true, true}
	r = check.Dial(t, addr).Send("GET / HTTP/1.1\r\n" + fields(limit+1) + "\r\n")
	r.Expect(fmt.Sprintf("a head of %d field lines", limit+1), refused, answer{r.Status, r.OneLine(), r.Closed})

	// The same, but the head goes on: no blank line comes. The answer
	// must not wait for one (the step would give up after its 10 s read
	// timeout and say 408).
	r = check.Dial(t, addr).Send("GET / HTTP/1.1\r\n" + fields(limit+1))
	r.Expect(fmt.Sprintf("%d field lines, the head not over yet", limit+1), refused, answer{r.Status, r.OneLine(), r.Closed})
}
