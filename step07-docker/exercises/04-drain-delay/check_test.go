//go:build exercise

package exercise

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/wsgicourse/step07-docker/exercises/internal/check"
)

func TestDrainDelay(t *testing.T) {
	// An hour: the check never waits for the delay to end (it kills the
	// step when it is done), so nothing here races it.
	step := check.Start(t, "../..", "-addr", "127.0.0.1:0", "-drain-delay", "1h")
	r := check.Dial(t, step.Addr).Get("/healthz")
	r.Expect(t, "GET /healthz before SIGTERM", 200, r.Status)

	if err := step.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The signal is handled soon, not at once: ask again, each time on a
	// new connection, as a load balancer's probe does, until the answer
	// changes. What must never happen is a refused connection first.
	for attempt := 0; ; attempt++ {
		conn, err := net.Dial("tcp", step.Addr)
		if err != nil {
			t.Fatalf("after SIGTERM, a new connection was refused (%v) before /healthz had answered 503: "+
				"the listener closed before any load balancer could learn that the server is leaving", err)
		}
		conn.Close()
		r := check.Dial(t, step.Addr).Get("/healthz")
		if r.Status == 503 {
			break
		}
		if r.Status != 200 {
			r.Expect(t, "GET /healthz after SIGTERM: 200 until the server has seen the signal, then 503", 200, r.Status)
			t.FailNow()
		}
		if attempt == 1000 {
			t.Fatal("/healthz still answered 200 after 1000 tries over 10 s since SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Draining is not closed: the clients that still come are answered.
	r = check.Dial(t, step.Addr).Get("/json")
	r.Expect(t, "GET /json during the drain delay: still served", struct {
		Status int
		Body   string
	}{200, `{"message":"Hello, World!"}`}, struct {
		Status int
		Body   string
	}{r.Status, string(r.Body)})

	// A delay that means nothing is refused, as the other durations are.
	code, stderr := check.Exit(t, "../..", "-addr", "127.0.0.1:0", "-drain-delay", "-1s")
	if first, _, _ := strings.Cut(stderr, "\n"); code != 2 || !strings.Contains(first, "-drain-delay") {
		t.Errorf("started with -drain-delay -1s: exit status %d, first line %q; want exit status 2 and a line naming -drain-delay", code, first)
	}
}
