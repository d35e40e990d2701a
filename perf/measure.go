package main

// The load runs: every server under every load, round after round, the
// servers taking turns within a round. Whatever else the machine does
// (other tests, a compile) then falls on all of them alike, and the
// spread between rounds shows how much a single figure can be trusted.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// sample is one wrk run against one server, with the CPU time the
// server's processes used during it.
type sample struct {
	wrkResult
	cpu cpuTimes
}

// cpuPerRequest is the server's CPU time divided by the requests served.
func (s sample) cpuPerRequest() time.Duration { return s.perRequest(s.cpu.all) }

// kernelPerRequest is the part of cpuPerRequest spent in the kernel:
// reading and writing the sockets, and waking the processes that wait on
// them. Every server pays it for the same bytes; the rest is its own code.
func (s sample) kernelPerRequest() time.Duration { return s.perRequest(s.cpu.kernel) }

func (s sample) perRequest(d time.Duration) time.Duration {
	if s.requests == 0 {
		return 0
	}
	return d / time.Duration(s.requests)
}

type cell struct {
	server string
	load   load
}

// results are the samples of every (server, load) cell, with the order
// the tables and charts list them in.
type results struct {
	servers []string
	loads   []load
	samples map[cell][]sample
	busy    [2]float64 // the load average when the runs began and ended
}

// measure runs rounds × loads × servers wrk runs of d each and prints one
// line per run as it goes.
func measure(servers []*server, loads []load, rounds int, d time.Duration) (*results, error) {
	res := &results{loads: loads, samples: map[cell][]sample{}}
	res.busy[0] = loadAverage()
	for _, s := range servers {
		res.servers = append(res.servers, s.name)
	}
	run, total := 0, rounds*len(loads)*len(servers)
	for round := range rounds {
		for _, l := range loads {
			for i := range servers {
				// Start each round one server further on, so none is always first after a change of load.
				s := servers[(i+round)%len(servers)]
				smp, err := measureOne(s, l, d)
				if err != nil {
					return nil, fmt.Errorf("%s, %v connections: %v", s.name, l, err)
				}
				res.samples[cell{s.name, l}] = append(res.samples[cell{s.name, l}], smp)
				run++
				fmt.Printf("[%3d/%d] %-22s %-9s %8.0f req/s  p50 %-8v p99 %-8v %6.1f µs CPU/req %s\n",
					run, total, s.name, l, smp.rps, smp.p50, smp.p99,
					micros(smp.cpuPerRequest()), errorNote(smp.errors))
			}
		}
	}
	res.busy[1] = loadAverage()
	return res, nil
}

// loadAverage is the machine's 1-minute load average: how many processes
// were running or waiting for a core, which says how busy it was.
func loadAverage() float64 {
	data, _ := os.ReadFile("/proc/loadavg")
	first, _, _ := strings.Cut(string(data), " ")
	load, _ := strconv.ParseFloat(first, 64)
	return load
}

// measureOne is one wrk run, with the server's CPU time read before and
// after it (the whole process tree: gunicorn serves from child processes).
func measureOne(s *server, l load, d time.Duration) (sample, error) {
	before, err := treeCPU(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	r, err := runWrk(s.url, l, d)
	if err != nil {
		return sample{}, err
	}
	after, err := treeCPU(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	return sample{wrkResult: r, cpu: cpuTimes{after.all - before.all, after.kernel - before.kernel}}, nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func errorNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d errors)", n)
}
