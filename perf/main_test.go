package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestTheCommandRunsEndToEnd builds the command and runs it as a learner
// would, made small: every step built, a few servers started, one round of
// 1 s wrk runs, the slow-client and idle-memory experiments, results.md
// and the charts written to a temporary folder (the README is not
// touched). It checks what was written, not the figures: those belong to
// the machine, and a test must not race the clock.
func TestTheCommandRunsEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		needPeer(t, "wrk is not installed (Debian: apt-get install wrk)")
	}
	for _, module := range []string{"gunicorn", "waitress"} {
		if !pythonHas(module) {
			needPeer(t, python+" cannot import "+module+" (Debian: apt-get install gunicorn python3-waitress)")
		}
	}
	work := t.TempDir() // the command's binary, and its own temporary folder
	t.Cleanup(func() { leftOver(work) })
	binary := buildCommand(t, work)
	out := t.TempDir()
	cmd := exec.Command(binary, "-rounds", "1", "-duration", "1s", "-conns", "4", "-close-conns", "2",
		"-servers", "^(step07-docker|step08-python|fasthttp|gunicorn sync|waitress)$",
		// The experiment's own limit, not a test's timeout: a server that
		// needs longer is reported as blocked, and the test checks only
		// that each server has a line.
		"-slow-limit", "2s", "-idle", "20", "-out", out)
	cmd.Env = append(os.Environ(), "TMPDIR="+work) // so that what it starts can be found (leftOver)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, output)
	}

	results, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"step07-docker", "step08-python", "net/http", "fasthttp", "gunicorn sync", "waitress"}
	for _, name := range names {
		// A table row starts with the server's name: one in the table of
		// answers, one in each load table, one in the slow-client table,
		// and for the Go servers one in the idle-memory table (checked below).
		want := 1 + len(metrics) + 1
		if name == "step07-docker" || name == "net/http" || name == "fasthttp" {
			want++
		}
		if rows := strings.Count(string(results), "\n| "+name+" |"); rows != want {
			t.Errorf("results.md has %d table rows for %s, want %d:\n%s", rows, name, want, results)
		}
	}
	// The table of answers shows each server's own: step 07's demo says hello.
	if row := "\n| step07-docker | 13 bytes | `Hello, World!` |\n"; !strings.Contains(string(results), row) {
		t.Errorf("results.md has no row %q:\n%s", row, results)
	}
	for _, left := range []string{"step06-framework", "gunicorn gthread", "wsgiref"} {
		if strings.Contains(string(results), left) {
			t.Errorf("results.md lists %s, which -servers left out:\n%s", left, results)
		}
	}
	for _, name := range []string{"step07-docker", "net/http", "fasthttp"} {
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(name) + ` \| [0-9.]+ MiB \| [0-9.]+ MiB \|`).Match(results) {
			t.Errorf("results.md has no idle-memory row for %s:\n%s", name, results)
		}
	}

	charts, _ := filepath.Glob(filepath.Join(out, "charts", "*.svg"))
	if len(charts) != 3 {
		t.Errorf("%d charts written, want 3 (req/s, CPU per request, p99): %v", len(charts), charts)
	}
	for _, chart := range charts {
		svg, err := os.ReadFile(chart)
		if err != nil {
			t.Fatal(err)
		}
		if _, bars := readSVG(t, string(svg)); len(bars) != 2*len(names) {
			t.Errorf("%s has %d bars, want one per server and load (%d)", filepath.Base(chart), len(bars), 2*len(names))
		}
	}

	if left := leftOver(work); len(left) > 0 {
		t.Errorf("processes left running after the command: %v", left)
	}
}

// TestFlagsItRefuses: a command line the command cannot carry out gets one
// line saying why, before anything is built or started.
func TestFlagsItRefuses(t *testing.T) {
	binary := buildCommand(t, t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		// wrk takes whole seconds only; it would refuse "-d0.3s" with its usage.
		{[]string{"-duration", "300ms"}, "perf: -duration 300ms: wrk runs for whole seconds, such as 1s or 5s\n"},
		// Step 08's queue here is 1024 deep; more connections would get 503s.
		{[]string{"-conns", "16,2000"}, "perf: -conns \"16,2000\": want numbers of connections from 1 to 1024, such as 1,16,64,256\n"},
		{[]string{"-conns", "0"}, "perf: -conns \"0\": want numbers of connections from 1 to 1024, such as 1,16,64,256\n"},
	}
	// Should a refusal be lost, the run that follows is a small one into a
	// temporary folder, not the full run that rewrites the README.
	small := []string{"-servers", "^$", "-rounds", "1", "-close-conns", "0", "-slow-limit", "0", "-idle", "0", "-out", t.TempDir()}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := exec.Command(binary, append(small, tt.args...)...).CombinedOutput()
			if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1", err)
			}
			if string(out) != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}

// TestQuickKeepsWhatTheCommandLineSays: -quick's own settings (1 round,
// 16 and 64 connections, 1,000 idle connections) fill in only what the
// command line leaves unsaid. Only net/http runs, for one 1 s run.
func TestQuickKeepsWhatTheCommandLineSays(t *testing.T) {
	binary := buildCommand(t, t.TempDir())
	small := []string{"-quick", "-servers", "^$", "-conns", "2", "-close-conns", "0", "-slow-limit", "0"}
	for _, tt := range []struct {
		idle string // -idle's value; "" for none
		want string // a line results.md must have (or must not, for -idle 0)
	}{
		{"0", "## Idle connections"},
		{"", "with 1,000 kept-alive connections"},
	} {
		t.Run("idle="+tt.idle, func(t *testing.T) {
			out := t.TempDir()
			args := append(small, "-out", out)
			if tt.idle != "" {
				args = append(args, "-idle", tt.idle)
			}
			if output, err := exec.Command(binary, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, output)
			}
			results, err := os.ReadFile(filepath.Join(out, "results.md"))
			if err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(string(results), tt.want); has != (tt.idle == "") {
				t.Errorf("results.md has %q: %v, want %v:\n%s", tt.want, has, !has, results)
			}
		})
	}
}

// buildCommand builds this command into dir.
func buildCommand(t *testing.T, dir string) string {
	t.Helper()
	binary := filepath.Join(dir, "perf")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return binary
}

// leftOver lists, and kills, the processes still running whose command
// line names dir: the servers the command built or wrote there
// (gunicorn's workers too, whose command line names the folder of
// hello.py). Killing them keeps a failed run from leaving them behind.
func leftOver(dir string) []string {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var left []string
	for _, path := range cmdlines {
		data, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(data), dir) {
			continue
		}
		left = append(left, strings.ReplaceAll(string(data), "\x00", " "))
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return left
}

// needPeer skips a test whose peer (wrk, Python's servers) this machine
// lacks, with one line saying so, and fails it in CI
// (COURSE_REQUIRE_PEERS), where the peers are installed.
func needPeer(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("COURSE_REQUIRE_PEERS") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
