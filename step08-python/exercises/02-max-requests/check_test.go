//go:build exercise

package exercise

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"example.com/wsgicourse/step08-python/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// maxRequests is the -max-requests the check starts the step with.
const maxRequests = 3

// answer is what testdata/leaky.py says: which worker process served the
// request, and how many requests that process has served, this one too.
type answer struct {
	Status int
	Pid    int
	Served int
}

func read(r *check.Response) answer {
	a := answer{Status: r.Status}
	fmt.Sscanf(string(r.Body), "worker %d served %d\n", &a.Pid, &a.Served)
	return a
}

func TestMaxRequests(t *testing.T) {
	check.NeedPython(t)
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in testdata
	// -worker-timeout 1h: a request that waits for a new worker to start
	// never races the clock.
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-app", "leaky:app", "-dir", "testdata",
		"-workers", "2", "-max-requests", fmt.Sprint(maxRequests), "-worker-timeout", "1h")

	// served[pid] is the counts that worker said (1, 2, 3, then it must
	// be gone), in the order its clients read them.
	var mu sync.Mutex
	served := map[int][]int{}
	// get may run on goroutines of its own, where a check must not stop
	// the test (t.Fatal): it reports, and says whether to go on.
	get := func(conn *check.Conn, what string) bool {
		r, err := conn.TrySend(conn.Request("GET", "/"))
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return false
		}
		a := read(r)
		mu.Lock()
		defer mu.Unlock()
		if a.Status == 200 && a.Pid > 0 {
			served[a.Pid] = append(served[a.Pid], a.Served)
		}
		if a.Status == 200 && a.Pid > 0 && a.Served >= 1 && a.Served <= maxRequests {
			return true
		}
		r.Expect(t, what, fmt.Sprintf("200: worker <pid> served <1 to %d>", maxRequests),
			fmt.Sprintf("%d: %s", r.Status, strings.TrimSpace(string(r.Body))))
		return false
	}

	// One client after another: no answer is lost while workers retire.
	conn := check.Dial(t, addr)
	for i := 1; i <= 4*maxRequests; i++ {
		if !get(conn, fmt.Sprintf("GET /, request %d of %d on one connection", i, 4*maxRequests)) {
			t.FailNow()
		}
	}
	// Four clients at once, more than there are workers: while one
	// worker is being replaced the others wait in the queue, and still
	// every request is answered by a worker within its limit.
	var wg sync.WaitGroup
	for c := range 4 {
		conn := check.Dial(t, addr)
		wg.Go(func() {
			for i := range maxRequests {
				if !get(conn, fmt.Sprintf("GET /, client %d of 4 at once, request %d", c+1, i+1)) {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Each worker counted 1, 2, 3 and was then replaced: none served a
	// request twice or skipped one (a request lost in a worker's exit).
	var retired []int
	for pid, counts := range served {
		slices.Sort(counts) // the clients of one worker may read their answers in any order
		var want []int      // 1, 2, … each once: none twice, none skipped
		for n := range len(counts) {
			want = append(want, n+1)
		}
		if !slices.Equal(counts, want) {
			t.Errorf("worker %d said it had served %v; want %v, each count once", pid, counts, want)
		}
		if len(counts) == maxRequests {
			retired = append(retired, pid)
		}
	}
	if requests := 4*maxRequests + 4*maxRequests; len(served) < requests/maxRequests {
		t.Errorf("%d requests were served by %d workers; with -max-requests %d, want at least %d", requests, len(served), maxRequests, requests/maxRequests)
	}

	// A retired worker exits, and the server reaps it: a pool that only
	// stops sending it requests keeps its leaked memory all the same. (A
	// pool may retire a worker as soon as it has served its last request,
	// or the next time it would be given one: a few more requests give
	// each one that next time.)
	for i := range 4 {
		if !get(conn, fmt.Sprintf("GET /, one of 4 more requests on the first connection, request %d", i+1)) {
			t.FailNow()
		}
	}
	if check.Ours() {
		for _, pid := range retired {
			check.Eventually(t, fmt.Sprintf("worker %d served its %d requests, but its process has not exited (or nobody reaped it)", pid, maxRequests),
				func() bool { return check.Gone(pid) })
		}
	}

	// A limit that means nothing is refused, as the other settings are.
	code, stderr := check.Exit(t, "../..", "-addr", "127.0.0.1:0", "-max-requests", "-1")
	if first, _, _ := strings.Cut(stderr, "\n"); code != 2 || !strings.Contains(first, "-max-requests") {
		t.Errorf("started with -max-requests -1: exit status %d, first line %q; want exit status 2 and a line naming -max-requests", code, first)
	}
}
