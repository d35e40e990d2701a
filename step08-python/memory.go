package main

// Living within the memory a container is given. Two things take a server
// past its limit, and then the kernel kills it (exit 137): Go's collector
// lets the heap grow to about twice what is live unless it is told the
// limit, and every body an app reads into memory is live at once (256
// uploads of 1 MiB to an app that io.ReadAll's them hold over 500 MiB).
// So at start-up the server reads its limit (GOMEMLIMIT, else the
// cgroup's) and tells the collector; and a request with a body reserves
// its share of a budget before the app runs, or gets a 503 at once.

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	goShare    = 0.9      // of the container's limit, for Go; the rest is the binary's pages and the kernel's
	goBaseline = 16 << 20 // the runtime, the goroutines' stacks and the 503s in progress, with room to spare
	// An app that io.ReadAll's a body holds 2.1-2.2 times it as the read
	// ends (measured, Go 1.26: its chunks and the final copy); the third
	// share is room for the garbage it leaves, so the collector can rest.
	bodyShare = 3
)

// memoryLimit tells Go's collector the memory the process may use, and
// returns it with where it came from; 0 when nothing says (a laptop).
// GOMEMLIMIT wins: the runtime has read it already, and the limit is all
// Go's. A container's limit is shared with what is not Go's.
func memoryLimit(getenv func(string) string, root fs.FS) (int64, string) {
	if getenv("GOMEMLIMIT") != "" {
		if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 { // -1 only reads it; MaxInt64 is "off"
			return limit, "GOMEMLIMIT"
		}
		return 0, ""
	}
	container := cgroupMemoryLimit(root)
	if container == 0 {
		return 0, ""
	}
	limit := int64(float64(container) * goShare)
	debug.SetMemoryLimit(limit)
	return limit, fmt.Sprintf("%.0f%% of the cgroup's %d MiB", goShare*100, container>>20)
}

// cgroupMemoryLimit reads the container's memory limit from root (the
// file system at /), or returns 0 when there is none. Docker shows a
// container its own cgroup at /sys/fs/cgroup.
func cgroupMemoryLimit(root fs.FS) int64 {
	for _, path := range []string{
		"sys/fs/cgroup/memory.max",                   // cgroup v2: a number, or "max"
		"sys/fs/cgroup/memory/memory.limit_in_bytes", // cgroup v1: a number, huge for no limit
	} {
		text, err := fs.ReadFile(root, path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(text)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 { // "max", or v1's 2^63 less a page
			return 0
		}
		return n
	}
	return 0
}

// bodyMemory is the budget for request bodies under a memory limit: what
// is left when the runtime and cap connections' heads (worstCasePerConnection
// but the body) are counted; at least room for one body of the largest size.
func bodyMemory(limit int64, maxConns int) int64 {
	heads := int64(max(maxConns, 0)) * (worstCasePerConnection - maxBodyBytes)
	return max(limit-goBaseline-heads, bodyShare*maxBodyBytes)
}

// limitMemory sets Go's memory limit and returns the body budget for
// run, saying both on out; 0 (no budget) when no limit is known.
func limitMemory(out io.Writer, maxConns int) int64 {
	limit, from := memoryLimit(os.Getenv, os.DirFS("/"))
	if limit == 0 {
		return 0
	}
	budget := bodyMemory(limit, maxConns)
	fmt.Fprintf(out, "* memory limit %d MiB (%s); request bodies may hold %d MiB at once, then a 503\n", limit>>20, from, budget>>20)
	return budget
}

// bodyBudget counts the bytes the bodies in progress have reserved.
type bodyBudget struct {
	mu   sync.Mutex
	held int64
}

// reserveBody takes the share of the budget the request's body needs
// (bodyShare × its Content-Length, or × maxBodyBytes for a chunked one),
// or answers 503 and reports false. That body is never read: the
// lingering close throws it away. release gives the share back.
func (s *Server) reserveBody(b *body, bw *bufio.Writer, isHead bool) (release func(), ok bool) {
	size := b.remaining
	if b.chunked {
		size = maxBodyBytes
	}
	need := bodyShare * size
	if s.BodyMemory <= 0 || need == 0 {
		return func() {}, true
	}
	if !s.bodies.take(need, s.BodyMemory) {
		bw.Write(unavailableResponse("the server is short of memory for request bodies; try again in a second\n", isHead, time.Now()))
		bw.Flush()
		return nil, false
	}
	return func() { s.bodies.take(-need, s.BodyMemory) }, true
}

// take adds n bytes to what is held if that stays within budget; a
// negative n gives bytes back.
func (b *bodyBudget) take(n, budget int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > 0 && b.held+n > budget {
		return false
	}
	b.held += n
	return true
}
