package main

// Driving a server with wrk (Debian package wrk) and reading what it
// printed. wrk is a C program on its own threads, so the client's speed
// is the same for every server; --latency makes it print percentiles.

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"time"
)

// load is one way of driving a server: conns connections kept alive, or
// (closing) each request on a new connection, as with HTTP/1.0 clients
// and many proxies.
type load struct {
	conns   int
	closing bool
}

func (l load) String() string {
	if l.closing {
		return fmt.Sprintf("%d, close", l.conns)
	}
	return strconv.Itoa(l.conns)
}

// wrkResult is what one wrk run printed.
type wrkResult struct {
	rps      float64
	requests int64
	p50, p99 time.Duration
	errors   int64 // socket errors (connect, read, write, timeout) and non-2xx/3xx answers
}

var (
	rpsLine      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	requestsLine = regexp.MustCompile(`(\d+) requests in `)
	p50Line      = regexp.MustCompile(`\s50%\s+([\d.]+)(us|ms|s|m)\s`)
	p99Line      = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s|m)\s`)
	socketLine   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	non2xxLine   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// runWrk drives url with l for d. wrk's threads are the machine's cores,
// but never more than its connections (wrk refuses that).
func runWrk(url string, l load, d time.Duration) (wrkResult, error) {
	threads := min(runtime.NumCPU(), l.conns)
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(l.conns),
		"-d" + strconv.Itoa(int(d/time.Second)) + "s", "--latency"}
	if l.closing {
		args = append(args, "-H", "Connection: close")
	}
	var out bytes.Buffer
	cmd := exec.Command("wrk", append(args, url)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := startGroup(cmd)
	if err != nil {
		return wrkResult{}, err
	}
	<-p.done
	p.forget()
	if !cmd.ProcessState.Success() {
		return wrkResult{}, fmt.Errorf("wrk %v: %v\n%s", args, cmd.ProcessState, out.String())
	}
	return parseWrk(out.String())
}

// parseWrk reads wrk's report. A line it cannot find is an error, but for
// the two error lines, which wrk prints only when there were errors.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	rps := rpsLine.FindStringSubmatch(out)
	requests := requestsLine.FindStringSubmatch(out)
	p50 := p50Line.FindStringSubmatch(out)
	p99 := p99Line.FindStringSubmatch(out)
	if rps == nil || requests == nil || p50 == nil || p99 == nil {
		return r, fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(rps[1], 64)
	r.requests, _ = strconv.ParseInt(requests[1], 10, 64)
	r.p50, r.p99 = wrkDuration(p50[1], p50[2]), wrkDuration(p99[1], p99[2])
	if m := socketLine.FindStringSubmatch(out); m != nil {
		for _, n := range m[1:] {
			count, _ := strconv.ParseInt(n, 10, 64)
			r.errors += count
		}
	}
	if m := non2xxLine.FindStringSubmatch(out); m != nil {
		count, _ := strconv.ParseInt(m[1], 10, 64)
		r.errors += count
	}
	return r, nil
}

// wrkDuration turns wrk's "354.00us" (value and unit) into a Duration.
func wrkDuration(value, unit string) time.Duration {
	v, _ := strconv.ParseFloat(value, 64)
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[unit]
	return time.Duration(math.Round(v * float64(scale)))
}
