// Command loadtest compares step 08 with the Python servers people deploy
// WSGI apps on, all running the same Flask hello app (testdata/flaskapp,
// GET / answers "Hello, World!") in 2 processes of Debian's python3, on
// loopback, with no access log:
//
//	step 08            -workers 2 -quiet
//	gunicorn sync      -w 2                  (the yardstick)
//	gunicorn gthread   -w 2 --threads 4
//	uWSGI              --processes 2 --master (skipped if not installed)
//
// It needs Debian's wrk, python3-flask, gunicorn, and uwsgi with
// uwsgi-plugin-python3. Two experiments:
//
//  1. Speed: wrk -t2 with keep-alive at 16 and 64 connections, in rounds;
//     within a round each server runs once, the first one rotating, so
//     whatever else the machine does falls on all of them alike. Each
//     server's req/s and p99 are the medians of its rounds; its ratio to
//     gunicorn sync is the median of the per-round ratios.
//  2. Slow clients: 100 clients each send a request head one byte every
//     100 ms, never finishing it, for 10 s; beside them one normal client
//     makes GET / requests, one connection each. Its median and p99
//     latency, against the same client with no slow clients. A request
//     still unanswered when the slow clients stop is reported as
//     "> its bound".
//
// Both tables go to stdout and, with the date, the machine and the
// versions, to loadtest/results.md (-out).
//
//	go run ./step08-python/loadtest           # about 6 minutes
//	go run ./step08-python/loadtest -quick    # about 1 minute
//
// Every process it starts (the servers, their workers, wrk) runs in its
// own process group, which is ended on the way out: after a normal run,
// on an error, and on Ctrl-C or SIGTERM.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	python    string
	rounds    int
	duration  time.Duration
	conns     []int
	slow      int
	slowFor   time.Duration
	slowEvery time.Duration
	baseline  time.Duration
	out       string
	quick     bool
}

func main() {
	var o options
	var conns string
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "the `interpreter` for every server's workers: it must import flask and gunicorn")
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved rounds of wrk runs (each server once per connection count per round)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each wrk run")
	flag.StringVar(&conns, "conns", "16,64", "comma-separated keep-alive connection counts")
	flag.IntVar(&o.slow, "slow", 100, "how many slow clients")
	flag.DurationVar(&o.slowFor, "slow-for", 10*time.Second, "how long the slow clients keep at it: the bound on the normal client's latency")
	flag.DurationVar(&o.slowEvery, "slow-every", 100*time.Millisecond, "the pause between two bytes of a slow client")
	flag.DurationVar(&o.baseline, "baseline", 5*time.Second, "how long the normal client runs alone, for reference")
	flag.StringVar(&o.out, "out", "", "the markdown `file` to write (default: loadtest/results.md in the step)")
	flag.BoolVar(&o.quick, "quick", false, "a run of about a minute: 1 round of 2 s runs, 5 s of slow clients, 2 s of baseline")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected argument %q: every setting is a flag", flag.Arg(0)))
	}
	if o.quick {
		o.rounds, o.duration, o.slowFor, o.baseline = 1, 2*time.Second, 5*time.Second, 2*time.Second
	}
	for field := range strings.SplitSeq(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			fail(fmt.Errorf("-conns %q: want numbers such as 16,64", conns))
		}
		o.conns = append(o.conns, n)
	}
	if o.rounds < 1 || o.duration < time.Second || o.slowFor < time.Second || o.slowEvery <= 0 || o.baseline <= 0 {
		fail(errors.New("-rounds must be at least 1, -duration and -slow-for at least 1s, -slow-every and -baseline above 0"))
	}
	if o.out == "" {
		o.out = filepath.Join(stepDir(), "loadtest", "results.md")
	}
	stopOnSignal()
	err := run(o)
	stopAll()
	fail(err)
}

// fail stops everything this command started, says why and exits.
func fail(err error) {
	if err != nil {
		stopAll()
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// --- processes ---------------------------------------------------------

// proc is a process this command started, in a process group of its own
// (so that ending it ends gunicorn's and uWSGI's workers too).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and been reaped
}

var (
	procsMu  sync.Mutex
	procs    = map[*proc]bool{}
	stopping bool // stopAll has begun: start nothing more
)

// startProc runs a command with its output going to out.
func startProc(name, dir string, out io.Writer, args ...string) (*proc, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	procsMu.Lock()
	defer procsMu.Unlock()
	if stopping {
		return nil, errors.New("interrupted")
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	procs[p] = true
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop asks the group to end (SIGTERM: each server's graceful shutdown,
// which stops its workers), then kills what is left of it.
func (p *proc) stop() {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // a worker that outlived its master, or a master that hung
	<-p.done
	procsMu.Lock()
	delete(procs, p)
	procsMu.Unlock()
}

// stopAll stops every process still running, all at once.
func stopAll() {
	procsMu.Lock()
	stopping = true
	var all []*proc
	for p := range procs {
		all = append(all, p)
	}
	procsMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// stopOnSignal makes Ctrl-C and SIGTERM stop the servers before exiting.
// A Ctrl-C in the terminal reaches only this command (and go run): each
// server is in a group of its own.
func stopOnSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "\nloadtest: %v: stopping every server\n", sig)
		stopAll()
		os.Exit(130)
	}()
}

// --- the servers --------------------------------------------------------

// server is one contestant, listening on its own loopback port.
type server struct {
	name string // as the tables show it
	url  string
	proc *proc
	log  *os.File // its output, shown if it fails to start
}

// freeAddr is a loopback address with a port nobody uses right now. The
// Python servers cannot tell us which port they took, so the port is
// picked here and handed to them.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs one server and waits until GET / answers
// "Hello, World!": a server that answers anything else is not measured.
func startServer(name, dir, logDir, addr string, args ...string) (*server, error) {
	logFile, err := os.Create(filepath.Join(logDir, strings.NewReplacer(" ", "-", "/", "-").Replace(name)+".log"))
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, dir, logFile, args...)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	s := &server{name: name, url: "http://" + addr + "/", proc: p, log: logFile}
	if err := s.waitHello(30 * time.Second); err != nil {
		output, _ := os.ReadFile(logFile.Name())
		return nil, fmt.Errorf("%s (%s): %v\n%s", name, strings.Join(args, " "), err, lastLines(output, 15))
	}
	return s, nil
}

const hello = "Hello, World!"

func (s *server) waitHello(patience time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(patience)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.proc.done:
			return fmt.Errorf("exited (%v)", s.proc.cmd.ProcessState)
		default:
		}
		resp, err := client.Get(s.url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == hello {
				return nil
			}
			err = fmt.Errorf("GET / answered %s %q, want 200 %q", resp.Status, body, hello)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not answering within %v: %v", patience, last)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// uwsgiMissing says why uWSGI cannot run here, or "" if it can.
func uwsgiMissing() string {
	if _, err := exec.LookPath("uwsgi"); err != nil {
		return "uwsgi is not installed (Debian: apt-get install uwsgi uwsgi-plugin-python3)"
	}
	plugins, _ := filepath.Glob("/usr/lib/uwsgi/plugins/python3*_plugin.so")
	if len(plugins) == 0 {
		return "uWSGI's python3 plugin is not installed (Debian: apt-get install uwsgi-plugin-python3)"
	}
	return ""
}

// startAll builds step 08 and starts the servers side by side.
func startAll(o options, tmp string) ([]*server, error) {
	binary := filepath.Join(tmp, "step08-python")
	if out, err := exec.Command("go", "build", "-o", binary, stepDir()).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	app, err := filepath.Abs(filepath.Join(stepDir(), "testdata", "flaskapp"))
	if err != nil {
		return nil, err
	}
	type spec struct {
		name string
		args func(addr string) []string
	}
	specs := []spec{
		{"step08 -workers 2", func(addr string) []string {
			return []string{binary, "-python", o.python, "-dir", app, "-app", "hello:app", "-workers", "2", "-quiet", "-addr", addr}
		}},
		// gunicorn writes no access log unless told to (--access-logfile).
		{"gunicorn sync -w 2", func(addr string) []string {
			return []string{o.python, "-m", "gunicorn", "-w", "2", "-b", addr, "hello:app"}
		}},
		{"gunicorn gthread -w 2 --threads 4", func(addr string) []string {
			return []string{o.python, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "4", "-b", addr, "hello:app"}
		}},
	}
	if why := uwsgiMissing(); why != "" {
		fmt.Printf("skipping uWSGI: %s\n", why)
	} else {
		specs = append(specs, spec{"uwsgi --processes 2", func(addr string) []string {
			// The plugin embeds Debian's python3 (the one Flask is installed for).
			return []string{"uwsgi", "--plugin", "python3", "--http-socket", addr, "--master", "--processes", "2",
				"--chdir", app, "--module", "hello:app", "--disable-logging", "--need-app", "--die-on-term"}
		}})
	}
	var servers []*server
	for _, sp := range specs {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s, err := startServer(sp.name, app, tmp, addr, sp.args(addr)...)
		if err != nil {
			return nil, err
		}
		fmt.Printf("%-34s %s answers %q\n", s.name, s.url, hello)
		servers = append(servers, s)
	}
	return servers, nil
}

// --- wrk ------------------------------------------------------------

// result is what one wrk run measured.
type result struct {
	rps      float64       // requests per second
	p99      time.Duration // 99th percentile latency (--latency)
	requests int           // requests completed
	// Socket errors as wrk counts them. A read error is also how wrk counts
	// a server that closes the connection after a response without saying
	// "Connection: close" (uWSGI's --http-socket does): not a failure.
	connect, read, write, timeout int
	non2xx                        int // responses that were not 2xx or 3xx
}

// failures are the errors that mean a request did not get its answer.
func (r result) failures() int { return r.connect + r.write + r.timeout + r.non2xx }

var (
	rpsLine      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	p99Line      = regexp.MustCompile(`(?m)^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$`)
	requestsLine = regexp.MustCompile(`(\d+) requests in `)
	errorsLine   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	non2xxLine   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// parseWrk reads wrk --latency's report.
func parseWrk(out string) (result, error) {
	var r result
	rps, p99, requests := rpsLine.FindStringSubmatch(out), p99Line.FindStringSubmatch(out), requestsLine.FindStringSubmatch(out)
	if rps == nil || p99 == nil || requests == nil {
		return r, fmt.Errorf("cannot find Requests/sec, the 99%% latency and the request count in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(rps[1], 64)
	r.requests, _ = strconv.Atoi(requests[1])
	value, _ := strconv.ParseFloat(p99[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[p99[2]]
	r.p99 = time.Duration(math.Round(value * float64(unit)))
	if m := errorsLine.FindStringSubmatch(out); m != nil {
		r.connect, _ = strconv.Atoi(m[1])
		r.read, _ = strconv.Atoi(m[2])
		r.write, _ = strconv.Atoi(m[3])
		r.timeout, _ = strconv.Atoi(m[4])
	}
	if m := non2xxLine.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	return r, nil
}

// wrk runs one load test: 2 threads, keep-alive, GET /. wrk runs in a
// group of its own too, so that Ctrl-C stops it with the rest.
func wrk(url string, conns int, duration time.Duration) (result, error) {
	var out bytes.Buffer
	p, err := startProc("wrk", "", &out, "wrk", "-t2", "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(duration.Round(time.Second).Seconds()))+"s", "--latency", url)
	if err != nil {
		return result{}, err
	}
	select {
	case <-p.done:
	case <-time.After(duration + time.Minute):
	}
	p.stop()
	if !p.cmd.ProcessState.Success() {
		return result{}, fmt.Errorf("wrk: %v\n%s", p.cmd.ProcessState, out.Bytes())
	}
	return parseWrk(out.String())
}

// --- experiment 1: speed ---------------------------------------------------

// speedRow is one server at one connection count, over all rounds.
type speedRow struct {
	conns    int
	server   string
	rps      float64       // median over the rounds
	ratio    float64       // median of the rounds' rps / gunicorn sync's rps
	p99      time.Duration // median over the rounds
	p99Ratio float64       // median of the rounds' p99 / gunicorn sync's p99
	failures int           // summed over the rounds
	reads    int           // wrk's read errors, summed: closed connections
	requests int           // summed over the rounds
}

// speed runs the rounds. servers[1] is the yardstick, gunicorn sync.
func speed(o options, servers []*server) ([]speedRow, error) {
	// A second each first: Python's first requests import and cache.
	for _, s := range servers {
		if _, err := wrk(s.url, 16, time.Second); err != nil {
			return nil, fmt.Errorf("%s warm-up: %v", s.name, err)
		}
	}
	got := map[int]map[*server][]result{}
	for _, c := range o.conns {
		got[c] = map[*server][]result{}
	}
	fmt.Printf("\nwrk -t2, keep-alive, GET /, %d interleaved rounds of %v runs\n", o.rounds, o.duration)
	for round := range o.rounds {
		for _, c := range o.conns {
			order := append(slices.Clone(servers[round%len(servers):]), servers[:round%len(servers)]...)
			for _, s := range order {
				r, err := wrk(s.url, c, o.duration)
				if err != nil {
					return nil, fmt.Errorf("%s, %d connections: %v", s.name, c, err)
				}
				got[c][s] = append(got[c][s], r)
				fmt.Printf("  round %d  %3d conns  %-34s %8.0f req/s  p99 %-9v  errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
					round+1, c, s.name, r.rps, r.p99.Round(10*time.Microsecond), r.connect, r.read, r.write, r.timeout, r.non2xx)
			}
		}
	}
	var rows []speedRow
	yardstick := servers[1]
	for _, c := range o.conns {
		for _, s := range servers {
			row := speedRow{conns: c, server: s.name}
			var rps, p99, ratios, p99Ratios []float64
			for i, r := range got[c][s] {
				base := got[c][yardstick][i]
				rps, p99 = append(rps, r.rps), append(p99, float64(r.p99))
				ratios = append(ratios, r.rps/base.rps)
				p99Ratios = append(p99Ratios, float64(r.p99)/float64(base.p99))
				row.failures += r.failures()
				row.reads += r.read
				row.requests += r.requests
			}
			row.rps, row.ratio = median(rps), median(ratios)
			row.p99, row.p99Ratio = time.Duration(median(p99)), median(p99Ratios)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func median(xs []float64) float64 {
	xs = slices.Sorted(slices.Values(xs))
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// --- experiment 2: slow clients ---------------------------------------

// sample is one request of the normal client: how long it took, or, if
// it was not answered within its bound, that bound.
type sample struct {
	latency  time.Duration
	timedOut bool
}

// latencies is what the normal client saw in one phase.
type latencies struct {
	samples []sample
	failed  int    // answered, but not 200 "Hello, World!", or the connection failed
	firstEr string // the first such failure, to show
}

// percentile is the nearest-rank percentile (p in 0..1) of the samples, a
// request that timed out ranking above every answered one.
func percentile(samples []sample, p float64) (sample, bool) {
	if len(samples) == 0 {
		return sample{}, false
	}
	sorted := slices.SortedFunc(slices.Values(samples), func(a, b sample) int {
		if a.timedOut != b.timedOut {
			if a.timedOut {
				return 1
			}
			return -1
		}
		return int(a.latency - b.latency)
	})
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)], true
}

// format shows a latency as the tables do; a timed-out one as "> bound".
func (s sample) format() string {
	if s.timedOut && s.latency >= time.Second {
		return "> " + s.latency.Round(100*time.Millisecond).String()
	}
	if s.timedOut {
		return "> " + s.latency.Round(time.Millisecond).String()
	}
	switch {
	case s.latency >= time.Second:
		return s.latency.Round(10 * time.Millisecond).String()
	case s.latency >= time.Millisecond:
		return s.latency.Round(10 * time.Microsecond).String()
	}
	return s.latency.Round(time.Microsecond).String()
}

func (l latencies) summary() (med, p99 string) {
	m, ok := percentile(l.samples, 0.5)
	if !ok {
		return "none", "none"
	}
	p, _ := percentile(l.samples, 0.99)
	return m.format(), p.format()
}

func (l latencies) timeouts() int {
	n := 0
	for _, s := range l.samples {
		if s.timedOut {
			n++
		}
	}
	return n
}

// normalClient makes GET / requests one after another, each on a fresh
// connection (gunicorn's sync workers close every connection anyway, and a
// new visitor opens one), until the end; none may outlast the end.
func normalClient(url string, end time.Time) latencies {
	var l latencies
	for {
		start := time.Now()
		bound := end.Sub(start)
		if bound < 50*time.Millisecond {
			return l
		}
		client := &http.Client{Timeout: bound, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get(url)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		took := time.Since(start)
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			l.samples = append(l.samples, sample{bound, true})
		case err == nil && resp.StatusCode == 200 && string(body) == hello:
			l.samples = append(l.samples, sample{took, false})
		default:
			l.failed++
			if l.firstEr == "" {
				l.firstEr = fmt.Sprint(err)
				if err == nil {
					l.firstEr = fmt.Sprintf("%s %q", resp.Status, body)
				}
			}
			time.Sleep(10 * time.Millisecond) // a refused connection must not become a busy loop
		}
	}
}

// slowClient sends a request head one byte at a time, a head too long to
// finish before end, and hangs up at end. It reports whether the server
// closed the connection first (a header timeout, say).
func slowClient(addr string, every time.Duration, end time.Time) (closedByServer bool, err error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	padding := strings.Repeat("a", int(time.Until(end)/every)+16)
	head := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nX-Slow: " + padding + "\r\n\r\n"
	for i := 0; time.Now().Before(end); i++ {
		if _, err := conn.Write([]byte{head[i]}); err != nil {
			return true, nil
		}
		time.Sleep(min(every, time.Until(end)))
	}
	return false, nil
}

// slowRow is one server's line of the second table.
type slowRow struct {
	server    string
	alone     latencies
	withSlow  latencies
	slowOpen  int // slow clients that connected
	slowCut   int // of those, cut by the server before the end
	slowError string
}

// slowClients runs the second experiment on each server in turn.
func slowClients(o options, servers []*server) []slowRow {
	fmt.Printf("\nslow clients: %d, one byte of a request head every %v for %v; a normal client beside them\n", o.slow, o.slowEvery, o.slowFor)
	var rows []slowRow
	for _, s := range servers {
		row := slowRow{server: s.name}
		row.alone = normalClient(s.url, time.Now().Add(o.baseline))

		end := time.Now().Add(o.slowFor)
		addr := strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/")
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range o.slow {
			wg.Go(func() {
				cut, err := slowClient(addr, o.slowEvery, end)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					row.slowError = err.Error()
				case cut:
					row.slowOpen++
					row.slowCut++
				default:
					row.slowOpen++
				}
			})
		}
		// The slow clients connect and send their first bytes; then the
		// normal client, until they stop.
		time.Sleep(min(time.Second, o.slowFor/4))
		row.withSlow = normalClient(s.url, end)
		wg.Wait()
		aloneMed, aloneP99 := row.alone.summary()
		slowMed, slowP99 := row.withSlow.summary()
		fmt.Printf("  %-34s alone: median %-9s p99 %-9s (%d requests)   with slow clients: median %-9s p99 %-9s (%d requests, %d unanswered, %d failed)\n",
			s.name, aloneMed, aloneP99, len(row.alone.samples), slowMed, slowP99, len(row.withSlow.samples), row.withSlow.timeouts(), row.withSlow.failed)
		if row.withSlow.firstEr != "" {
			fmt.Printf("    first failure: %s\n", row.withSlow.firstEr)
		}
		rows = append(rows, row)
		// Let the server see the slow clients go before the next one starts.
		time.Sleep(500 * time.Millisecond)
	}
	return rows
}

// --- the report -------------------------------------------------------

func run(o options) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (Debian: apt-get install wrk)")
	}
	if out, err := exec.Command(o.python, "-c", "import flask, gunicorn").CombinedOutput(); err != nil {
		return fmt.Errorf("-python %s cannot import flask and gunicorn (Debian: apt-get install python3-flask gunicorn): %v\n%s", o.python, err, out)
	}
	tmp, err := os.MkdirTemp("", "step08-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	started := time.Now()
	loadBefore := loadAverage()
	servers, err := startAll(o, tmp)
	if err != nil {
		return err
	}
	rows, err := speed(o, servers)
	if err != nil {
		return err
	}
	slow := slowClients(o, servers)
	report := markdown(o, started, loadBefore, loadAverage(), rows, slow)
	fmt.Printf("\n%s", report)
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwritten to %s (%v)\n", o.out, time.Since(started).Round(time.Second))
	return nil
}

func markdown(o options, started time.Time, loadBefore, loadAfter string, rows []speedRow, slow []slowRow) string {
	var b strings.Builder
	command := strings.Join(append([]string{"go run ./step08-python/loadtest"}, os.Args[1:]...), " ")
	fmt.Fprintf(&b, "# Step 08 against gunicorn and uWSGI\n\n")
	fmt.Fprintf(&b, "Generated by `%s` (step08-python/loadtest/main.go) on %s.\n\n", command, started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %d CPUs (`nproc`), %s; load average %s before, %s after.\n", runtime.NumCPU(), cpuModel(), loadBefore, loadAfter)
	fmt.Fprintf(&b, "- Versions: %s.\n", versions(o.python))
	fmt.Fprintf(&b, "- The app: `testdata/flaskapp/hello.py` (Flask, GET / answers `Hello, World!`), 2 worker processes of `%s` in every server, no access log, all on 127.0.0.1.\n", o.python)
	fmt.Fprintf(&b, "- The machine was shared with other work while this ran, so the absolute numbers are noisy; the runs are interleaved (each round runs every server once, the first one rotating) so that the noise falls on all servers alike, and the ratios are the medians of per-round ratios.\n\n")

	fmt.Fprintf(&b, "## Speed: wrk -t2 --latency, keep-alive, GET /\n\n")
	fmt.Fprintf(&b, "Rounds: %d, each a %v wrk run per server and connection count. req/s and p99 are medians over the rounds; × is the median of the per-round ratios to gunicorn sync.\n\n", o.rounds, o.duration)
	fmt.Fprintf(&b, "| connections | server | req/s | × gunicorn sync | p99 | p99 × gunicorn sync | failed requests |\n")
	fmt.Fprintf(&b, "|---:|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %.0f | %.2f | %v | %.2f | %d of %d |\n",
			r.conns, r.server, r.rps, r.ratio, r.p99.Round(10*time.Microsecond), r.p99Ratio, r.failures, r.requests)
	}
	fmt.Fprintf(&b, "\nFailed requests are wrk's connect, write and timeout errors and non-2xx answers. ")
	fmt.Fprintf(&b, "gunicorn's sync worker closes the connection after every response (`Connection: close`), and uWSGI's `--http-socket` closes it without saying so (wrk counts those as read errors, which are left out here), so both pay a new connection per request; step 08 and gunicorn gthread keep connections alive.\n\n")

	fmt.Fprintf(&b, "## Slow clients\n\n")
	fmt.Fprintf(&b, "%d clients each send a request head one byte every %v, never finishing it, and hang up after %v. ", o.slow, o.slowEvery, o.slowFor)
	fmt.Fprintf(&b, "Beside them, from %v after they start, one normal client makes GET / requests one after another, each on a new connection, until they stop: a request still unanswered then is shown as \"> the time it had\". ", min(time.Second, o.slowFor/4))
	fmt.Fprintf(&b, "\"Alone\" is the same client for %v with no slow clients. Latencies are nearest-rank percentiles.\n\n", o.baseline)
	fmt.Fprintf(&b, "| server | alone: median | alone: p99 | with slow clients: median | with slow clients: p99 | requests (unanswered) | slow clients connected (cut by the server) |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range slow {
		aloneMed, aloneP99 := r.alone.summary()
		slowMed, slowP99 := r.withSlow.summary()
		conns := fmt.Sprintf("%d (%d)", r.slowOpen, r.slowCut)
		if r.slowError != "" {
			conns += "; " + r.slowError
		}
		requests := fmt.Sprintf("%d (%d)", len(r.withSlow.samples), r.withSlow.timeouts())
		if r.withSlow.failed > 0 {
			requests += fmt.Sprintf("; %d failed: %s", r.withSlow.failed, r.withSlow.firstEr)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.server, aloneMed, aloneP99, slowMed, slowP99, requests, conns)
	}
	return b.String()
}

// versions names what was measured, as the tools themselves say it.
func versions(python string) string {
	goVersion := firstLine(exec.Command("go", "env", "GOVERSION"))
	py := firstLine(exec.Command(python, "-c",
		"import sys, importlib.metadata as m; print('Python %s, Flask %s, gunicorn %s' % (sys.version.split()[0], m.version('flask'), m.version('gunicorn')))"))
	parts := []string{"Go " + strings.TrimPrefix(goVersion, "go"), py}
	if uwsgiMissing() == "" {
		parts = append(parts, "uWSGI "+firstLine(exec.Command("uwsgi", "--version")))
	}
	if wrkVersion := strings.Fields(firstLine(exec.Command("wrk", "--version"))); len(wrkVersion) >= 2 {
		parts = append(parts, "wrk "+wrkVersion[1]) // "wrk debian/4.1.0-3+b2 [epoll] Copyright ..."
	}
	return strings.Join(parts, ", ")
}

// firstLine is a command's first line of output, whatever its exit status
// (wrk --version exits 1).
func firstLine(cmd *exec.Cmd) string {
	out, _ := cmd.CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(data), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "an unknown CPU"
}

func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(data) + " ? ? ?")[:3], " ")
}

// stepDir is step 08's folder, found from the working directory (the
// repository root, the step, or loadtest itself).
func stepDir() string {
	for _, candidate := range []string{"step08-python", ".", ".."} {
		if _, err := os.Stat(filepath.Join(candidate, "loadtest", "main.go")); err == nil {
			abs, _ := filepath.Abs(candidate)
			return abs
		}
	}
	return "step08-python"
}
