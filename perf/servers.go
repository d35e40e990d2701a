package main

// The contestants: how each server is built and started, and how this
// command knows it is up. Every one listens on 127.0.0.1 only, on a port
// the kernel found free a moment before.

import (
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed hello.py
var helloPy []byte

const python = "/usr/bin/python3" // Debian's, the one that sees Debian's gunicorn and waitress

// contestant is a server this command can start: its command line, with
// {addr} where the address goes.
type contestant struct {
	name string
	argv []string
}

// server is a running contestant.
type server struct {
	name   string
	url    string
	proc   *proc
	answer answer // what it answered to waitReady's GET /
}

// host is the server's host:port.
func (s *server) host() string {
	return strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/")
}

// answer is what a server says to GET /: the load runs ask it of every
// server, and not every step answers with a hello.
type answer struct {
	bytes     int    // the body's length
	firstLine string // the body's first line
}

// workspace is what the contestants are made from: the repository's root
// and a temporary folder for binaries, hello.py and logs.
type workspace struct {
	root, tmp string
}

// maxQueue is step 08's -queue here: more than any load's connections.
const maxQueue = 1024

// readyLimit is how long a server may take to answer its first GET /.
// It is a second or less on a quiet machine; a busy one (CI, running
// every test at once) may need many times that to start Python.
const readyLimit = time.Minute

// stepContestants builds every step folder of the repository (stepNN-*)
// and gives each one -quiet when it has that flag (step 01 has no log to
// silence). extra are more flags for every step, such as -one-at-a-time.
func (w workspace) stepContestants() ([]contestant, error) {
	dirs, err := filepath.Glob(filepath.Join(w.root, "step[0-9][0-9]-*"))
	if err != nil {
		return nil, err
	}
	var list []contestant
	for _, dir := range dirs {
		name := filepath.Base(dir)
		binary := filepath.Join(w.tmp, name)
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", name, err, out)
		}
		argv := []string{binary, "-addr", "{addr}"}
		if hasFlag(binary, "quiet") {
			argv = append(argv, "-quiet")
		}
		if hasFlag(binary, "queue") {
			// Step 08 answers 503 at once to a request that finds its queue
			// for a Python worker full (64 deep by default), where gunicorn
			// leaves the connection waiting in the kernel's listen backlog.
			// This table compares serving, not refusing: a queue deeper
			// than any run's connections.
			argv = append(argv, "-queue", strconv.Itoa(maxQueue))
		}
		list = append(list, contestant{name, argv})
	}
	return list, nil
}

// hasFlag asks a step's binary for its usage (-h) instead of assuming
// which steps have which flags.
func hasFlag(binary, flag string) bool {
	out, _ := exec.Command(binary, "-h").CombinedOutput()
	return strings.Contains(string(out), "\n  -"+flag)
}

// goTwins are net/http and fasthttp, served by this very binary.
func goTwins() ([]contestant, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []contestant{
		{"net/http", []string{self, "-serve", "nethttp", "-addr", "{addr}"}},
		{"fasthttp", []string{self, "-serve", "fasthttp", "-addr", "{addr}"}},
	}, nil
}

// pythonContestants are the Python servers this machine has, each with
// hello.py's app. A missing one is skipped with one line saying so.
// Gunicorn gets its documented starting point, 2 × cores + 1 workers
// (gthread: 4 threads each); waitress runs its default 4 threads.
func (w workspace) pythonContestants() ([]contestant, error) {
	script := filepath.Join(w.tmp, "hello.py")
	if err := os.WriteFile(script, helloPy, 0o644); err != nil {
		return nil, err
	}
	if _, err := os.Stat(python); err != nil {
		fmt.Printf("skipping the Python servers: no %s\n", python)
		return nil, nil
	}
	workers := strconv.Itoa(2*runtime.NumCPU() + 1)
	gunicorn := []string{python, "-m", "gunicorn", "--chdir", w.tmp, "-b", "{addr}", "-w", workers}
	list := []contestant{{"wsgiref", []string{python, script, "wsgiref", "{addr}"}}}
	if pythonHas("gunicorn") {
		list = append(list,
			contestant{"gunicorn sync", slices.Concat(gunicorn, []string{"-k", "sync", "hello:app"})},
			contestant{"gunicorn gthread", slices.Concat(gunicorn, []string{"-k", "gthread", "--threads", "4", "hello:app"})})
	} else {
		fmt.Println("skipping gunicorn: python3 cannot import it (Debian: apt-get install gunicorn)")
	}
	if pythonHas("waitress") {
		list = append(list, contestant{"waitress", []string{python, script, "waitress", "{addr}"}})
	} else {
		fmt.Println("skipping waitress: python3 cannot import it (Debian: apt-get install python3-waitress)")
	}
	return list, nil
}

func pythonHas(module string) bool {
	return exec.Command(python, "-c", "import "+module).Run() == nil
}

// start runs c on a free loopback port and waits until GET / answers 200.
func (w workspace) start(c contestant) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	argv := make([]string, len(c.argv))
	for i, a := range c.argv {
		argv[i] = strings.ReplaceAll(a, "{addr}", addr)
	}
	logPath := filepath.Join(w.tmp, strings.ReplaceAll(c.name, "/", "-")+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	p, err := startGroup(cmd)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c.name, err)
	}
	s := &server{name: c.name, url: "http://" + addr + "/", proc: p}
	if s.answer, err = waitReady(s, readyLimit); err != nil {
		p.stop()
		out, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%s: %v; its output:\n%s", c.name, err, out)
	}
	return s, nil
}

// freeAddr asks the kernel for a free port. Another program could take it
// before the server binds it; on a quiet loopback that does not happen.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady asks GET / until it answers 200, the server exits, or the
// time is up (Python takes a moment to import its server), and returns
// the answer.
func waitReady(s *server, limit time.Duration) (answer, error) {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.proc.done:
			return answer{}, fmt.Errorf("exited before answering")
		default:
		}
		a, err := getRoot(s.host(), time.Now().Add(time.Second))
		if err == nil || time.Now().After(deadline) {
			return a, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
