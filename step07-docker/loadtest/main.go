// Command loadtest compares the step's demo with Go's net/http on loopback,
// using wrk (Debian package wrk). It builds the step, starts it with -quiet
// and a net/http server that answers GET / with the same bytes (the same
// headers too: Server, X-Request-Id), and runs wrk against each in turn,
// interleaved so that whatever else the machine does falls on both alike:
//
//	go run ./step07-docker/loadtest                 # 3 pairs of 5 s runs at 16, 64 and 256 connections
//	go run ./step07-docker/loadtest -pairs 5 -conns 64 -duration 10s
//
// Each pair prints both rates, their ratio (step07 / net/http) and both
// p99 latencies; then the median ratio per connection count. A last round
// runs the step with its access log on (written to a pipe this command
// drains, as a log collector would).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	serveNetHTTP := flag.String("nethttp", "", "internal: serve the net/http twin on this address")
	pairs := flag.Int("pairs", 3, "interleaved pairs of runs per connection count")
	conns := flag.String("conns", "16,64,256", "comma-separated connection counts")
	duration := flag.Duration("duration", 5*time.Second, "length of each wrk run")
	flag.Parse()
	if *serveNetHTTP != "" {
		fail(netHTTPTwin(*serveNetHTTP))
		return
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		fail(errors.New("wrk is not installed (Debian: apt-get install wrk)"))
	}
	fail(compare(*pairs, *conns, *duration))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// netHTTPTwin is the yardstick: net/http answering what the demo's GET /
// answers, byte for byte but for the id's value and the Date.
func netHTTPTwin(addr string) error {
	hello := []byte("Hello, World!")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Server"] = []string{"step07-docker"}
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		h["Content-Length"] = []string{"13"}
		h["X-Request-Id"] = []string{strconv.FormatUint(rand.Uint64()|1<<63, 16)}
		w.Write(hello)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("net/http serving on http://%s/\n", ln.Addr())
	return http.Serve(ln, handler)
}

// server is one of the two contestants, running in its own process.
type server struct {
	name string
	url  string
	cmd  *exec.Cmd
}

// start runs a server command and waits for its "serving on http://..." line.
func start(name string, args ...string) (*server, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	_, url, found := strings.Cut(strings.TrimSpace(line), " serving on ")
	if err != nil || !found {
		cmd.Process.Kill()
		return nil, fmt.Errorf("%s printed %q, %v; want its URL", name, line, err)
	}
	go io.Copy(io.Discard, br) // the access log, if any: read and dropped
	return &server{name: name, url: url, cmd: cmd}, nil
}

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// result is what one wrk run measured.
type result struct {
	rps float64       // requests per second
	p99 time.Duration // 99th percentile latency
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	p99Line = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)\b`)
)

// wrk runs one load test: 2 threads (the machine's cores), keep-alive.
func wrk(url string, conns int, duration time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), duration+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", "-t2", "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(duration.Seconds()))+"s", "--latency", url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		return result{}, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	rps := rpsLine.FindStringSubmatch(string(out))
	p99 := p99Line.FindStringSubmatch(string(out))
	if rps == nil || p99 == nil {
		return result{}, fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	var r result
	r.rps, _ = strconv.ParseFloat(rps[1], 64)
	value, _ := strconv.ParseFloat(p99[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p99[2]]
	r.p99 = time.Duration(math.Round(value * float64(unit)))
	return r, nil
}

func compare(pairs int, connList string, duration time.Duration) error {
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stepBinary := filepath.Join(dir, "step07-docker")
	// The step is this command's parent directory, wherever it is run from.
	if out, err := exec.Command("go", "build", "-o", stepBinary, stepDir()).CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	twin, err := start("net/http", self, "-nethttp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer twin.stop()
	quiet, err := start("step07 -quiet", stepBinary, "-quiet", "-addr", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer quiet.stop()
	logging, err := start("step07 with access log", stepBinary, "-addr", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer logging.stop()

	fmt.Printf("wrk -t2, keep-alive, GET /, %d interleaved pairs of %v runs\n", pairs, duration)
	for _, field := range strings.Split(connList, ",") {
		conns, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("-conns: %v", err)
		}
		for _, contestant := range []*server{quiet, logging} {
			if contestant == logging && conns != 64 {
				continue // the access log is measured at 64 connections only
			}
			if err := round(contestant, twin, conns, pairs, duration); err != nil {
				return err
			}
		}
	}
	return nil
}

// round runs pairs of (contestant, net/http), alternating which goes first.
func round(s, twin *server, conns, pairs int, duration time.Duration) error {
	fmt.Printf("\n%s vs net/http, %d connections\n", s.name, conns)
	var ratios, p99Ratios []float64
	for i := range pairs {
		order := []*server{s, twin}
		if i%2 == 1 {
			order = []*server{twin, s}
		}
		got := map[*server]result{}
		for _, srv := range order {
			r, err := wrk(srv.url, conns, duration)
			if err != nil {
				return fmt.Errorf("%s: %v", srv.name, err)
			}
			got[srv] = r
		}
		ratio := got[s].rps / got[twin].rps
		p99Ratio := float64(got[s].p99) / float64(got[twin].p99)
		ratios, p99Ratios = append(ratios, ratio), append(p99Ratios, p99Ratio)
		fmt.Printf("  pair %d: step07 %8.0f req/s  net/http %8.0f req/s  ratio %.2f   p99 %v vs %v (%.2f×)\n",
			i+1, got[s].rps, got[twin].rps, ratio, got[s].p99, got[twin].p99, p99Ratio)
	}
	fmt.Printf("  median ratio %.2f, median p99 ratio %.2f\n", median(ratios), median(p99Ratios))
	return nil
}

func median(xs []float64) float64 {
	xs = slices.Sorted(slices.Values(xs))
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// stepDir is the step's folder: this file's parent, found from the working
// directory (the repository root, the step, or loadtest itself).
func stepDir() string {
	for _, candidate := range []string{"step07-docker", ".", ".."} {
		if _, err := os.Stat(filepath.Join(candidate, "loadtest", "main.go")); err == nil {
			abs, _ := filepath.Abs(candidate)
			return abs
		}
	}
	return "step07-docker"
}
