// Command perf compares, on this machine's loopback, every step's server
// with Go's net/http, fasthttp, and Python's wsgiref, gunicorn (sync and
// gthread workers) and waitress, all asked GET / (each step answers with
// its own demo; the others with step07's hello):
//
//	go run ./perf          # the full run, 7 minutes on 2 cores; rewrites perf/results.md, perf/charts and README.md's figures
//	go run ./perf -quick   # 1 round of 1 s runs, 1,000 idle connections; writes to a new temporary folder
//
// It drives each server with wrk at 1, 16, 64 and 256 kept-alive
// connections and with a new connection per request, the servers taking
// turns, several rounds; it reads each server's CPU time from /proc around
// each run. Then two experiments: a client that sends half a request and
// stalls (does a second client wait?), and the memory step07 and net/http
// need for 10,000 idle kept-alive connections.
//
// It needs wrk (Debian: apt-get install wrk) for the load runs, and
// Debian's python3 with gunicorn and python3-waitress for those servers;
// what is missing is skipped with a line saying so.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	rounds     int
	duration   time.Duration
	conns      []int
	closeConns int // connections for the Connection: close load; 0: none
	servers    *regexp.Regexp
	slowLimit  time.Duration
	idle       int
	out        string // where results.md and charts/ go
}

func main() {
	serve := flag.String("serve", "", "internal: serve the `nethttp` or fasthttp twin on -addr")
	addr := flag.String("addr", "127.0.0.1:0", "internal: the twin's address")
	cfg, err := parseFlags()
	if err == nil && *serve != "" {
		err = serveTwin(*serve, *addr)
	} else if err == nil {
		err = run(cfg)
	}
	if err != nil {
		killAll()
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

func parseFlags() (config, error) {
	var cfg config
	quick := flag.Bool("quick", false, "a short run to try it: 1 round at 16 and 64 connections, 1,000 idle connections, results in a temporary folder")
	// Five short rounds rather than fewer long ones: what else runs on the
	// machine comes in bursts, and a median of five shrugs off two bad runs.
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds of runs (each server once per load per round)")
	flag.DurationVar(&cfg.duration, "duration", time.Second, "length of each wrk run")
	conns := flag.String("conns", "1,16,64,256", "comma-separated numbers of kept-alive connections")
	flag.IntVar(&cfg.closeConns, "close-conns", 16, "connections for the run with Connection: close (a new connection per request); 0: no such run")
	servers := flag.String("servers", "", "only the servers whose name matches this `regexp` (net/http is always kept: it is the yardstick)")
	flag.DurationVar(&cfg.slowLimit, "slow-limit", 5*time.Second, "how long the slow-client experiment waits; 0: no such experiment")
	flag.IntVar(&cfg.idle, "idle", 10000, "idle connections for the memory experiment; 0: no such experiment")
	flag.StringVar(&cfg.out, "out", "", "folder for results.md and charts/ (default: perf/ in the repository, and README.md's figures are rewritten)")
	flag.Parse()
	if *quick {
		// Its own defaults, for what the command line leaves unsaid:
		// -quick -idle 0 runs no idle experiment.
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["rounds"] {
			cfg.rounds = 1
		}
		if !set["conns"] {
			*conns = "16,64"
		}
		if !set["idle"] {
			cfg.idle = 1000
		}
		if cfg.out == "" {
			dir, err := os.MkdirTemp("", "perf-quick")
			if err != nil {
				return cfg, err
			}
			cfg.out = dir
		}
	}
	for field := range strings.SplitSeq(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 || n > maxQueue {
			return cfg, fmt.Errorf("-conns %q: want numbers of connections from 1 to %d, such as 1,16,64,256", *conns, maxQueue)
		}
		cfg.conns = append(cfg.conns, n)
	}
	if cfg.duration < time.Second || cfg.duration%time.Second != 0 {
		return cfg, fmt.Errorf("-duration %v: wrk runs for whole seconds, such as 1s or 5s", cfg.duration)
	}
	var err error
	cfg.servers, err = regexp.Compile(*servers)
	return cfg, err
}

func (cfg config) loads() []load {
	var loads []load
	for _, n := range cfg.conns {
		loads = append(loads, load{conns: n})
	}
	if cfg.closeConns > 0 {
		loads = append(loads, load{conns: cfg.closeConns, closing: true})
	}
	return loads
}

func run(cfg config) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	readme := ""
	if cfg.out == "" {
		cfg.out, readme = filepath.Join(root, "perf"), filepath.Join(root, "README.md")
	}
	if _, err := raiseFileLimit(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "perf")
	if err != nil {
		return err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	defer cleanup()
	exitOnSignal(cleanup)
	w := workspace{root: root, tmp: tmp}
	info := describeMachine(cfg)

	contestants, err := w.contestants(cfg.servers)
	if err != nil {
		return err
	}
	servers, err := w.startAll(contestants)
	defer func() {
		for _, s := range servers {
			s.proc.stop()
		}
	}()
	if err != nil {
		return err
	}
	rep := report{info: info}
	for _, s := range servers {
		rep.answers = append(rep.answers, namedAnswer{s.name, s.answer})
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Println("skipping the load runs: wrk is not installed (Debian: apt-get install wrk)")
	} else {
		fmt.Printf("%d servers × %d loads × %d rounds of %v: about %v\n", len(servers), len(cfg.loads()), cfg.rounds, cfg.duration,
			(time.Duration(len(servers)*len(cfg.loads())*cfg.rounds) * (cfg.duration + 150*time.Millisecond)).Round(time.Second))
		if rep.load, err = measure(servers, cfg.loads(), cfg.rounds, cfg.duration); err != nil {
			return err
		}
	}
	if cfg.slowLimit > 0 {
		rep.slow = w.slowClients(servers, contestants, cfg.slowLimit)
	}
	for _, s := range servers {
		s.proc.stop()
	}
	servers = nil
	if cfg.idle > 0 {
		if rep.idle, err = w.idleAll(contestants, cfg.idle); err != nil {
			return err
		}
	}
	if rep.load != nil {
		for _, m := range metrics[:2] { // req/s and CPU per request; the rest is in results.md
			fmt.Printf("\n%s, median (× net/http):\n\n%s", m.title, rep.load.table(m))
		}
	}
	return rep.write(cfg.out, readme)
}

// repoRoot is the folder of the go.work this command runs in, so that it
// can be run from anywhere inside the repository.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	work := strings.TrimSpace(string(out))
	if err != nil || work == "" || work == "off" {
		return "", errors.New("run this inside the course repository (it needs go.work to find the steps)")
	}
	return filepath.Dir(work), nil
}

// contestants are every server to compare, in the order the tables list
// them: the steps, the Go yardsticks, the Python servers.
func (w workspace) contestants(only *regexp.Regexp) ([]contestant, error) {
	fmt.Println("building the steps …")
	steps, err := w.stepContestants()
	if err != nil {
		return nil, err
	}
	twins, err := goTwins()
	if err != nil {
		return nil, err
	}
	pythons, err := w.pythonContestants()
	if err != nil {
		return nil, err
	}
	var list []contestant
	for _, c := range append(append(steps, twins...), pythons...) {
		if c.name == yardstick || only.MatchString(c.name) {
			list = append(list, c)
		}
	}
	return list, nil
}

// startAll starts every contestant. One that will not start is skipped
// with a line saying why, but for net/http, the yardstick.
func (w workspace) startAll(contestants []contestant) ([]*server, error) {
	var servers []*server
	for _, c := range contestants {
		s, err := w.start(c)
		switch {
		case err != nil && c.name == yardstick:
			return servers, err
		case err != nil:
			fmt.Printf("skipping %s: %v\n", c.name, err)
		default:
			servers = append(servers, s)
		}
	}
	return servers, nil
}
