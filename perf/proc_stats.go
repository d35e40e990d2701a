package main

// What the kernel says a server process costs, read from /proc: CPU time
// (for CPU per request) and resident memory (for idle connections).

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// tick is one unit of /proc's CPU times. Linux reports them in USER_HZ,
// which is 100 on every architecture Go runs Linux on (sysconf(_SC_CLK_TCK)
// would need cgo to ask).
const tick = 10 * time.Millisecond

// procStat is the part of a /proc/PID/stat line this command uses.
type procStat struct {
	pid, ppid int
	cpu       int64 // utime + stime, in ticks
	kernel    int64 // stime alone: the kernel's work for it (its system calls, its sockets)
}

// parseStat reads one /proc/PID/stat line. The second field is the
// command's name in parentheses and may itself hold spaces and ")", so
// the fields are counted from the last ")".
func parseStat(line string) (procStat, error) {
	var s procStat
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return s, fmt.Errorf("not a /proc stat line: %q", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return s, fmt.Errorf("stat line pid: %v", err)
	}
	// After the name: state(3) ppid(4) … utime(14) stime(15), numbered as in proc(5).
	fields := strings.Fields(line[end+1:])
	if len(fields) < 13 {
		return s, fmt.Errorf("stat line too short: %q", line)
	}
	s.pid = pid
	s.ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return s, fmt.Errorf("stat line ppid: %v", err)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("stat line times: %q", line)
	}
	s.cpu, s.kernel = utime+stime, stime
	return s, nil
}

// cpuTimes is CPU time used, and the part of it spent in the kernel.
type cpuTimes struct {
	all, kernel time.Duration
}

// treeCPU is the CPU time used so far by root and every process below it
// (gunicorn's workers are the master's children). A process that exits
// between two readings takes its time with it; none of the servers here
// ends its workers during a run.
func treeCPU(root int) (cpuTimes, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	children := map[int][]int{}
	cpu, kernel := map[int]int64{}, map[int]int64{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended while we looked
		}
		s, err := parseStat(string(data))
		if err != nil {
			return cpuTimes{}, err
		}
		children[s.ppid] = append(children[s.ppid], s.pid)
		cpu[s.pid], kernel[s.pid] = s.cpu, s.kernel
	}
	if _, ok := cpu[root]; !ok {
		return cpuTimes{}, fmt.Errorf("process %d is gone", root)
	}
	return cpuTimes{
		all:    time.Duration(sumTree(root, children, cpu)) * tick,
		kernel: time.Duration(sumTree(root, children, kernel)) * tick,
	}, nil
}

func sumTree(pid int, children map[int][]int, cpu map[int]int64) int64 {
	total := cpu[pid]
	for _, child := range children[pid] {
		total += sumTree(child, children, cpu)
	}
	return total
}

// rss is a process's resident memory, from VmRSS in /proc/PID/status.
func rss(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(data))
}

// parseVmRSS finds the line "VmRSS:	   12345 kB" and returns it in bytes.
func parseVmRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if value, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kB, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return kB * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS line")
}
