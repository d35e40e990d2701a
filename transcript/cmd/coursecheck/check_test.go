package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
	"github.com/google/go-cmp/cmp"
)

// root is the course's folder, seen from this package.
var root = filepath.Join("..", "..", "..")

// requirePeer skips a test whose peer (python3, gunicorn) is missing, or
// fails it when COURSE_REQUIRE_PEERS=1 (CI), so CI never passes by skipping.
func requirePeer(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("COURSE_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s (COURSE_REQUIRE_PEERS=1: CI must run this test)", reason)
	}
	t.Skip(reason)
}

// startProcess runs a server command until the test ends and returns the
// address it prints: the first http://host:port/ that appears in its
// output (the steps' start-up line, gunicorn's "Listening at:").
func startProcess(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // gunicorn logs to stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		// SIGTERM first: gunicorn's master then stops its worker too.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-exited
		}
	})
	found := make(chan string, 1)
	go func() {
		url := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
		lines := bufio.NewScanner(out)
		sent := false
		for lines.Scan() { // keep reading, so the server never blocks on a full pipe
			if m := url.FindStringSubmatch(lines.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
		cmd.Wait()
		close(exited)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("%s exited without printing its address", cmd.Path)
		}
		return addr
	case <-time.After(time.Minute):
		t.Fatalf("%s printed no address within a minute", cmd.Path)
	}
	return ""
}

// checkStep runs the checker as the command would and returns its exit
// code and output.
func checkStep(t *testing.T, step int, addr string, extra ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append([]string{"-step", itoa(step), "-addr", addr, "-root", root}, extra...)
	code := run(args, &out, &errOut)
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
	return code, out.String()
}

func itoa(n int) string { return string(rune('0' + n)) }

// TestEveryStepPassesItselfAndTheNextStepFindsItsLessonMissing builds every
// step's server, checks it against its own transcripts (everything must
// pass or be skipped with a reason) and against the next step's, where
// the report must name the next step's concept as missing.
func TestEveryStepPassesItselfAndTheNextStepFindsItsLessonMissing(t *testing.T) {
	course, err := loadCourse(root)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, step := range course {
		t.Run(step.dir, func(t *testing.T) {
			exe := filepath.Join(bin, step.dir)
			build := exec.Command("go", "build", "-o", exe, ".")
			build.Dir = filepath.Join(root, step.dir)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			args := []string{"-addr", "127.0.0.1:0"}
			if step.n > 1 {
				args = append(args, "-quiet") // step 01 logs nothing anyway
			}
			addr := startProcess(t, exec.Command(exe, args...))

			code, out := checkStep(t, step.n, addr)
			if code != 0 || strings.Contains(out, "\nFAIL ") {
				t.Errorf("%s fails its own transcripts (exit %d):\n%s", step.dir, code, out)
			}
			if step.n == len(course) {
				return
			}
			next := course[step.n]
			code, out = checkStep(t, next.n, addr)
			missing := "missing from step " + next.dir[4:6] + " (" + next.concept + "): "
			if code != 1 || !strings.Contains(out, missing) {
				t.Errorf("%s against step %d's transcripts: want exit 1 and %q in the report, got exit %d:\n%s",
					step.dir, next.n, missing, code, out)
			}
		})
	}
}

// peers are the Python servers the checker is proven on, serving
// pyapps/course_apps.py. Steps 02 and 03 are left out: their servers
// answer with the raw request head, which no WSGI app can see.
var peerSteps = []int{1, 4, 5, 6, 7}

func startWsgiref(t *testing.T, step int) string {
	python, err := exec.LookPath("python3")
	if err != nil {
		requirePeer(t, "python3 not found; the wsgiref verdicts need it")
	}
	cmd := exec.Command(python, filepath.Join(root, "pyapps", "course_apps.py"), "step0"+itoa(step), "127.0.0.1:0")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"} // wsgiref copies the OS environment into every environ
	return startProcess(t, cmd)
}

// gunicornPython is Debian's Python, which imports Debian's gunicorn.
const gunicornPython = "/usr/bin/python3"

func startGunicorn(t *testing.T, step int) string {
	if err := exec.Command(gunicornPython, "-c", "import gunicorn").Run(); err != nil {
		requirePeer(t, "Debian's gunicorn not found (apt-get install gunicorn); the gunicorn verdicts need it")
	}
	cmd := exec.Command(gunicornPython, "-m", "gunicorn", "--worker-class", "sync", "--workers", "1",
		"-b", "127.0.0.1:0", "--chdir", filepath.Join(root, "pyapps"), "course_apps:step0"+itoa(step))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"}
	return startProcess(t, cmd)
}

// TestVerdictsOnRealServers holds the checker to its verdicts on wsgiref
// and gunicorn, exchange by exchange: testdata/verdicts/PEER-stepNN.txt.
// A change to the checker that flips one fails here; -update rewrites
// them (read the diff, and explain a new kind of failure in README.md).
func TestVerdictsOnRealServers(t *testing.T) {
	peers := []struct {
		name  string
		start func(*testing.T, int) string
	}{{"wsgiref", startWsgiref}, {"gunicorn", startGunicorn}}
	for _, peer := range peers {
		for _, step := range peerSteps {
			t.Run(peer.name+"/step0"+itoa(step), func(t *testing.T) {
				addr := peer.start(t, step)
				_, out := checkStep(t, step, addr, "-wait", "30s")
				var got []string
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, "PASS ") || strings.HasPrefix(line, "FAIL ") || strings.HasPrefix(line, "SKIP ") {
						got = append(got, line)
					}
				}
				golden := filepath.Join("testdata", "verdicts", peer.name+"-step0"+itoa(step)+".txt")
				text := strings.Join(got, "\n") + "\n"
				if transcript.Updating() {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v; create it with: go test ./transcript/cmd/coursecheck -run TestVerdictsOnRealServers -update", err)
				}
				if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(text, "\n")); diff != "" {
					t.Errorf("%s's verdicts changed (-want +got):\n%s\nif intended: go test ./transcript/cmd/coursecheck -run TestVerdictsOnRealServers -update\nfull report:\n%s", peer.name, diff, out)
				}
			})
		}
	}
}

// TestCommandLine pins the one-line answers to a bad command line (exit 2)
// and to a server that is not there (exit 1).
func TestCommandLine(t *testing.T) {
	cases := []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"-addr", "127.0.0.1:1"}, 2, "-step is required"},
		{[]string{"-step", "5"}, 2, "-addr is required"},
		{[]string{"-step", "9", "-addr", "127.0.0.1:1"}, 2, "the course has steps 1 to 8"},
		{[]string{"-step", "5", "-addr", "nohost"}, 2, "want host:port"},
		{[]string{"-step", "5", "-addr", "127.0.0.1:1", "-run", "("}, 2, "-run:"},
		{[]string{"-step", "5", "-addr", "127.0.0.1:1", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-step", "5", "-list"}, 0, "stream-chunked"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		code := run(append(tc.args, "-root", root), &out, &errOut)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.say) {
			t.Errorf("coursecheck %s: want exit %d and %q, got exit %d:\n%s%s", strings.Join(tc.args, " "), tc.code, tc.say, code, out.String(), errOut.String())
		}
	}
}

// TestNothingListening: a port with no server gets one line, not 70 failures.
func TestNothingListening(t *testing.T) {
	ln := listenAndClose(t)
	code, out := checkStep(t, 4, ln)
	if code != 1 || !strings.Contains(out, "nothing is listening on "+ln) || strings.Count(out, "\n") != 1 {
		t.Errorf("want exit 1 and one line saying nothing is listening, got exit %d:\n%s", code, out)
	}
}

// TestSilentServer: a server that accepts and never answers gets "no
// answer within" the -wait; the wait firing is what is under test.
func TestSilentServer(t *testing.T) {
	addr := silentServer(t)
	code, out := checkStep(t, 1, addr, "-run", "^get-root$", "-wait", "200ms")
	if code != 1 || !strings.Contains(out, "no answer within 200ms") {
		t.Errorf("want exit 1 and \"no answer within 200ms\", got exit %d:\n%s", code, out)
	}
}

// TestNotHTTP: an answer that is not HTTP is named as such.
func TestNotHTTP(t *testing.T) {
	addr := answeringServer(t, "hello there\n")
	code, out := checkStep(t, 1, addr, "-run", "^get-root$")
	if code != 1 || !strings.Contains(out, "not HTTP") {
		t.Errorf("want exit 1 and \"not HTTP\", got exit %d:\n%s", code, out)
	}
}

func listenAndClose(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// answeringServer writes answer to every connection, whatever it is sent.
func answeringServer(t *testing.T, answer string) string {
	return transcript.Start(t, func(ln net.Listener) error {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return nil
			}
			go func() {
				defer conn.Close()
				if answer == "" {
					io.Copy(io.Discard, conn) // silent: reads until the client leaves
					time.Sleep(time.Hour)
				}
				conn.Write([]byte(answer))
			}()
		}
	})
}

func silentServer(t *testing.T) string { return answeringServer(t, "") }

// TestTeachingGuide runs the commands of TEACHING.md's code blocks: a
// server line starts that server (on a free port instead of 8000), and
// each checker line then runs against it. The course's own step must
// pass; wsgiref must fail (the guide says to expect failures).
func TestTeachingGuide(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "TEACHING.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	if len(blocks) < 3 {
		t.Fatalf("TEACHING.md has %d sh blocks, want at least 3", len(blocks))
	}
	const checker = "go run ./transcript/cmd/coursecheck "
	for _, block := range blocks {
		addr, wantCode := "", 0
		for _, line := range strings.Split(strings.TrimSpace(block[1]), "\n") {
			args := strings.Fields(strings.ReplaceAll(line, "127.0.0.1:8000", "127.0.0.1:0"))
			switch {
			case strings.HasPrefix(line, checker):
				args = args[3:]
				for i := range args {
					if args[i] == "127.0.0.1:0" {
						args[i] = addr
					}
				}
				var out, errOut bytes.Buffer
				code := run(append(args, "-root", root), &out, &errOut)
				if code != wantCode {
					t.Errorf("TEACHING.md: %s: exit %d, want %d\n%s%s", line, code, wantCode, out.String(), errOut.String())
				}
			case strings.HasPrefix(line, "go run ./step"):
				exe := filepath.Join(t.TempDir(), "server")
				build := exec.Command("go", "build", "-o", exe, "./"+strings.TrimPrefix(args[2], "./"))
				build.Dir = root
				if out, err := build.CombinedOutput(); err != nil {
					t.Fatalf("TEACHING.md: %s: go build: %v\n%s", line, err, out)
				}
				addr = startProcess(t, exec.Command(exe, args[3:]...))
			case strings.HasPrefix(line, "COURSE_SERVER=127.0.0.1:8000 go test -tags exercise "):
				// An exercise's check held to a running server: the
				// untouched step has not done the exercise, so it fails.
				check := exec.Command("go", args[2:]...)
				check.Dir = root
				check.Env = append(os.Environ(), "COURSE_SERVER="+addr)
				out, err := check.CombinedOutput()
				if err == nil || !strings.Contains(string(out), "checking the server at "+addr) || !strings.Contains(string(out), "--- FAIL") {
					t.Errorf("TEACHING.md: %s: want the check to test the server at %s and fail, got %v:\n%s", line, addr, err, out)
				}
			case strings.HasPrefix(line, "python3 pyapps/course_apps.py "):
				step, _ := strconv.Atoi(strings.TrimPrefix(args[2], "step"))
				addr, wantCode = startWsgiref(t, step), 1
			default:
				t.Errorf("TEACHING.md: no test runs %q: teach the test, or move it out of an sh block", line)
			}
		}
	}
}
