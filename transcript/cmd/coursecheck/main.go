// Command coursecheck holds any running HTTP server to the course's
// transcripts for one step: it replays every exchange of stepNN-*/testdata/
// transcripts (step N's are everything up to step N) and compares the
// answers semantically, so a server written differently, in any language,
// passes when it does what the lesson asks. See README.md for the rules.
//
//	go run ./transcript/cmd/coursecheck -step 4 -addr 127.0.0.1:8000
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"example.com/wsgicourse/transcript"
	"github.com/google/go-cmp/cmp"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the command line says.
type config struct {
	step    int
	addr    string
	root    string
	run     *regexp.Regexp
	list    bool
	verbose bool
	wait    time.Duration
}

// run is the whole command: exit 0 when everything passed, 1 on any
// failure, 2 for a bad command line.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	course, err := loadCourse(cfg.root)
	if err != nil {
		fmt.Fprintf(stderr, "coursecheck: %v\n", err)
		return 2
	}
	if cfg.step < 1 || cfg.step > len(course) {
		fmt.Fprintf(stderr, "coursecheck: -step %d: the course has steps 1 to %d\n", cfg.step, len(course))
		return 2
	}
	step := course[cfg.step-1]
	if cfg.list {
		list(stdout, course, step, cfg.run)
		return 0
	}
	rep := check(cfg, course)
	rep.print(stdout, cfg)
	if rep.failed > 0 || rep.fatal != "" {
		return 1
	}
	return 0
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var pattern string
	flags := flag.NewFlagSet("coursecheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.IntVar(&cfg.step, "step", 0, "the step `N` whose transcripts to replay (1-8): everything up to step N")
	flags.StringVar(&cfg.addr, "addr", "", "`host:port` of the server to check")
	flags.StringVar(&cfg.root, "root", "", "the course's `folder` (default: found by walking up to go.work)")
	flags.StringVar(&pattern, "run", "", "check only the exchanges whose name matches this `regexp`")
	flags.BoolVar(&cfg.list, "list", false, "list what the step checks, and stop")
	flags.BoolVar(&cfg.verbose, "v", false, "show what was compared for passes too")
	flags.DurationVar(&cfg.wait, "wait", 5*time.Second, "how long one exchange may take before \"no answer\"")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: coursecheck -step N -addr HOST:PORT [-run REGEXP] [-v] [-wait 5s]\n       coursecheck -step N -list\n")
		flags.PrintDefaults()
	}
	usage := func(format string, a ...any) (config, error) {
		fmt.Fprintf(stderr, "coursecheck: "+format+"\n", a...)
		flags.Usage()
		return cfg, errors.New("usage")
	}
	if err := flags.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case flags.NArg() > 0:
		return usage("unexpected argument %q: every setting is a flag", flags.Arg(0))
	case cfg.step == 0:
		return usage("-step is required (1-8)")
	case cfg.addr == "" && !cfg.list:
		return usage("-addr is required: where the server to check listens, such as 127.0.0.1:8000")
	case cfg.wait <= 0:
		return usage("-wait must be more than 0")
	}
	if cfg.addr != "" {
		if _, port, err := net.SplitHostPort(cfg.addr); err != nil || port == "" {
			return usage("-addr %q: want host:port, such as 127.0.0.1:8000", cfg.addr)
		}
	}
	var err error
	if cfg.run, err = regexp.Compile(pattern); err != nil {
		return usage("-run: %v", err)
	}
	if cfg.root == "" {
		if cfg.root, err = findRoot(); err != nil {
			return usage("%v", err)
		}
	}
	return cfg, nil
}

// findRoot walks up from the working directory to the folder of go.work.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run from inside the course, or give -root")
		}
		dir = parent
	}
}

// courseStep is one step folder: its number, its name, the concept its
// README's title names, and its transcripts.
type courseStep struct {
	n       int
	dir     string // "step05-start-response"
	concept string // "start_response, streaming and keep-alive"
	all     []*transcript.Transcript
}

// loadCourse reads every step's transcripts, in step order.
func loadCourse(root string) ([]courseStep, error) {
	dirs, _ := filepath.Glob(filepath.Join(root, "step[0-9][0-9]-*"))
	var course []courseStep
	for _, dir := range dirs {
		n, _ := strconv.Atoi(filepath.Base(dir)[4:6])
		if n != len(course)+1 {
			return nil, fmt.Errorf("%s: expected step %02d next", dir, len(course)+1)
		}
		all, err := transcript.LoadDir(filepath.Join(dir, "testdata", "transcripts"))
		if err != nil {
			return nil, err
		}
		course = append(course, courseStep{n: n, dir: filepath.Base(dir), concept: concept(dir), all: all})
	}
	if len(course) == 0 {
		return nil, fmt.Errorf("no step folders (stepNN-*) in %s: give -root the course's folder", root)
	}
	return course, nil
}

// concept is what the step's README title says after the dash.
func concept(dir string) string {
	data, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	title, _, _ := strings.Cut(string(data), "\n")
	if _, after, ok := strings.Cut(title, "— "); ok {
		return after
	}
	return filepath.Base(dir)
}

// origin is the first step that has a transcript of this name: the
// lesson the exchange belongs to.
func origin(course []courseStep, name string) courseStep {
	for _, s := range course {
		if slices.ContainsFunc(s.all, func(tr *transcript.Transcript) bool { return tr.Name == name }) {
			return s
		}
	}
	return course[len(course)-1]
}

// lesson is the step whose concept an exchange checks: the last step,
// up to the one checked, whose golden changed what the checker compares
// (get-root is step 01's, but it stays open since step 05: a server that
// closes it lacks step 05's lesson, not step 01's).
func lesson(course []courseStep, name string, ru rules) courseStep {
	from := origin(course, name)
	var last []string
	for _, s := range course[from.n-1:] {
		i := slices.IndexFunc(s.all, func(tr *transcript.Transcript) bool { return tr.Name == name })
		if i < 0 {
			continue
		}
		var view []string
		for _, ex := range s.all[i].Exchanges {
			want, rest, notHTTP := parseResponses(ex.Response, requestMethods(ex.Request))
			view = append(view, ru.view(ex.Request, want, want, rest, notHTTP)...)
		}
		if !slices.Equal(view, last) {
			from, last = s, view
		}
	}
	return from
}

// needsSetup are the exchanges that need a state of the server the
// checker cannot make from outside. A new one is added here, with why.
var needsSetup = map[string]string{
	"over-cap-503":       "needs the server at its connection cap (step 07 runs with -max-conns 1 and one connection held), which the checker cannot arrange",
	"shutdown-healthz":   "needs the server shutting down (after SIGTERM), which the checker cannot cause",
	"shutdown-in-flight": "needs a SIGTERM between the request and its answer, which the checker cannot send",
}

func list(w io.Writer, course []courseStep, step courseStep, run *regexp.Regexp) {
	fmt.Fprintf(w, "step %02d (%s): %d exchanges, everything up to this step\n", step.n, step.concept, len(step.all))
	for _, tr := range step.all {
		if !run.MatchString(tr.Name) {
			continue
		}
		from := origin(course, tr.Name)
		what, _, _ := strings.Cut(strings.TrimPrefix(tr.Comment, "# "), "\n")
		if why, skip := needsSetup[tr.Name]; skip {
			what = "SKIPPED: " + why
		}
		fmt.Fprintf(w, "  %-34s step %02d  %s\n", tr.Name, from.n, what)
	}
}

// verdict is the outcome of one exchange.
type verdict struct {
	name   string
	from   courseStep
	result string // PASS, FAIL, SKIP
	why    string // one line
	detail string // for a failure (or -v): sent, received, diff, reproduce
}

type report struct {
	step                    courseStep
	verdicts                []verdict
	passed, failed, skipped int
	fatal                   string // nothing listening: no exchange could run
}

// check replays the step's transcripts against cfg.addr.
func check(cfg config, course []courseStep) report {
	step := course[cfg.step-1]
	rep := report{step: step}
	if conn, err := net.DialTimeout("tcp", cfg.addr, cfg.wait); err != nil {
		rep.fatal = connectError(cfg, err)
		return rep
	} else {
		conn.Close()
	}
	ru := rules{step: cfg.step}
	for _, tr := range step.all {
		if !cfg.run.MatchString(tr.Name) {
			continue
		}
		v := verdict{name: tr.Name, from: lesson(course[:cfg.step], tr.Name, ru)}
		if why, skip := needsSetup[tr.Name]; skip {
			v.result, v.why = "SKIP", why
		} else {
			v.result, v.why, v.detail = exchange(cfg, ru, tr)
		}
		switch v.result {
		case "PASS":
			rep.passed++
		case "FAIL":
			rep.failed++
		default:
			rep.skipped++
		}
		rep.verdicts = append(rep.verdicts, v)
	}
	return rep
}

// exchange replays one transcript and compares every answer.
func exchange(cfg config, ru rules, tr *transcript.Transcript) (result, why, detail string) {
	got, replayErr := transcript.ReplayWithin(cfg.addr, tr, cfg.wait)
	var all strings.Builder
	var firstWhy string
	for i, ex := range tr.Exchanges {
		methods := requestMethods(ex.Request)
		want, wantRest, wantNotHTTP := parseResponses(ex.Response, methods)
		var resp []byte
		if i < len(got) {
			resp = got[i]
		}
		gotResps, rest, notHTTP := parseResponses(resp, methods)
		wantView := ru.view(ex.Request, want, want, wantRest, wantNotHTTP) // steps 02-04 send HEAD a body
		gotView := ru.view(ex.Request, want, gotResps, rest, notHTTP)
		diff := cmp.Diff(wantView, gotView)
		if diff == "" && (replayErr == nil || len(want) == 0 && len(resp) == 0) {
			if cfg.verbose {
				fmt.Fprintf(&all, "    compared:\n      %s\n", strings.Join(wantView, "\n      "))
			}
			continue
		}
		if firstWhy == "" {
			firstWhy = firstDifference(wantView, gotView, replayErr, cfg, resp)
		}
		fmt.Fprintf(&all, "    sent:     %q\n    received: %q\n", clip(ex.Request, 300), clip(resp, 600))
		if replayErr != nil {
			fmt.Fprintf(&all, "    error:    %s\n", replayError(cfg, replayErr, resp))
		}
		if diff != "" {
			fmt.Fprintf(&all, "    what differs (-want +got):\n%s", indent(diff, "      "))
		}
		fmt.Fprintf(&all, "    reproduce: %s\n", reproduce(tr, cfg.addr))
	}
	if firstWhy == "" {
		return "PASS", "", all.String()
	}
	return "FAIL", firstWhy, all.String()
}

// firstDifference is the one-line reason: the first thing that differs,
// then the names of the others, so a verdict shows every rule it broke.
func firstDifference(want, got []string, replayErr error, cfg config, resp []byte) string {
	wantBy, order := byLabel(want)
	gotBy, gotOrder := byLabel(got)
	for _, l := range gotOrder {
		if _, ok := wantBy[l]; !ok {
			order = append(order, l)
		}
	}
	var first string
	var others []string
	for _, l := range order {
		w, g := wantBy[l], gotBy[l]
		if slices.Equal(w, g) {
			continue
		}
		if first != "" {
			others = append(others, l)
			continue
		}
		switch {
		case len(w) == 1 && len(g) == 1:
			first = fmt.Sprintf("want %s, got %s", w[0], g[0])
		case len(g) == 0:
			first = "missing: " + strings.Join(w, " ")
		case len(w) == 0 && len(g) == 1:
			first = "unexpected: " + g[0]
		default:
			first = l + " differs"
		}
	}
	if first == "" {
		return replayError(cfg, replayErr, resp)
	}
	if len(others) > 0 {
		first += "; also " + strings.Join(others, ", ")
	}
	return first
}

// byLabel groups view lines by what they are about: "status",
// "connection", a header's name, an environ key, "body".
func byLabel(lines []string) (map[string][]string, []string) {
	by := map[string][]string{}
	var order []string
	prefix := ""
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(line, "response ") {
			prefix = line + " "
			continue
		}
		label := "body"
		switch {
		case !strings.HasPrefix(line, "    "):
			label, _, _ = strings.Cut(t, ":")
			for _, word := range []string{"status", "then", "another response", "(no response"} {
				if strings.HasPrefix(t, word) {
					label = strings.Trim(word, "(")
				}
			}
		case strings.HasPrefix(t, "body: "):
			label = "body length"
		case !strings.HasSuffix(t, `\n`) && (strings.Contains(t, " = ") || strings.HasSuffix(t, " (missing)")):
			label, _, _ = strings.Cut(t, " ")
		}
		label = prefix + label
		if _, seen := by[label]; !seen {
			order = append(order, label)
		}
		by[label] = append(by[label], t)
	}
	return by, order
}

// replayError says in one line what went wrong on the connection.
func replayError(cfg config, err error, resp []byte) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, os.ErrDeadlineExceeded) && len(resp) == 0:
		return fmt.Sprintf("no answer within %v", cfg.wait)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("the answer stopped after %d bytes and the connection stayed open: nothing more within %v", len(resp), cfg.wait)
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("the server reset the connection (after %d bytes of answer)", len(resp))
	case errors.Is(err, syscall.EPIPE):
		return "the server closed the connection before the whole request was sent"
	}
	return err.Error()
}

// connectError explains why not even a connection could be made.
func connectError(cfg config, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing is listening on %s (connection refused): start the server first, or check -addr", cfg.addr)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no connection to %s within %v", cfg.addr, cfg.wait)
	}
	return fmt.Sprintf("cannot connect to %s: %v", cfg.addr, err)
}

func reproduce(tr *transcript.Transcript, addr string) string {
	var all []byte
	for _, ex := range tr.Exchanges {
		all = append(all, ex.Request...)
	}
	return transcript.Reproduce(all, addr)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// print writes one line per exchange, the details of each failure, and
// a summary that names the lessons whose exchanges fail.
func (rep report) print(w io.Writer, cfg config) {
	if rep.fatal != "" {
		fmt.Fprintf(w, "coursecheck: %s\n", rep.fatal)
		return
	}
	fmt.Fprintf(w, "checking %s against step %02d (%s): everything up to this step\n", cfg.addr, rep.step.n, rep.step.concept)
	failsByStep := map[int][]string{}
	for _, v := range rep.verdicts {
		line := fmt.Sprintf("%s %s", v.result, v.name)
		if v.why != "" {
			line += ": " + v.why
		}
		fmt.Fprintln(w, line)
		if v.result == "FAIL" || cfg.verbose && v.detail != "" {
			fmt.Fprint(w, v.detail)
		}
		if v.result == "FAIL" {
			failsByStep[v.from.n] = append(failsByStep[v.from.n], v.name)
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped (%d exchanges)\n", rep.passed, rep.failed, rep.skipped, len(rep.verdicts))
	for n := 1; n <= rep.step.n; n++ {
		if names := failsByStep[n]; len(names) > 0 {
			fmt.Fprintf(w, "missing from step %02d (%s): %s\n", n, conceptOf(rep, n), strings.Join(names, ", "))
		}
	}
}

func conceptOf(rep report, n int) string {
	for _, v := range rep.verdicts {
		if v.from.n == n {
			return v.from.concept
		}
	}
	return ""
}
