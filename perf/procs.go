package main

// Every process this command starts (the servers, and wrk while it runs)
// leads a process group of its own and is recorded here, so that one call
// kills it and its children (gunicorn's workers): at the end, on an
// error, and on Ctrl-C.

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// proc is a started process group; done closes when its leader exits.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

var running = struct {
	sync.Mutex
	procs map[*proc]bool
}{procs: map[*proc]bool{}}

// startGroup starts cmd as the leader of a new process group. Ctrl-C in a
// terminal signals the terminal's group only, so no server dies half-way
// through a run; this command stops them itself.
func startGroup(cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	running.Lock()
	running.procs[p] = true
	running.Unlock()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// forget drops a process that has exited from the list killAll kills.
func (p *proc) forget() {
	running.Lock()
	delete(running.procs, p)
	running.Unlock()
}

// stop asks the group to stop (SIGTERM: gunicorn then stops its workers)
// and kills whatever is left after a second.
func (p *proc) stop() {
	p.forget()
	syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Second):
	}
	syscall.Kill(-p.pid(), syscall.SIGKILL) // a worker the leader left behind
	<-p.done
}

// killAll kills every group still running, at once: the way out on an
// error or an interrupt.
func killAll() {
	running.Lock()
	defer running.Unlock()
	for p := range running.procs {
		syscall.Kill(-p.pid(), syscall.SIGKILL)
	}
}

// exitOnSignal kills everything and exits when the user presses Ctrl-C
// or the command gets SIGTERM, after cleanup (the temporary folder).
func exitOnSignal(cleanup func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		killAll()
		cleanup()
		os.Stderr.WriteString("\nperf: interrupted; every process it started is stopped\n")
		os.Exit(130)
	}()
}
