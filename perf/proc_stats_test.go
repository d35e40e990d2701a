package main

import (
	"os"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, line string
		want       procStat
	}{
		{
			"bash", // a real line, from /proc/1972/stat
			"1972 (bash) S 1971 1972 1972 0 -1 4194560 11941 2311405 0 598 17 38 9713 7345 20 0 1 0 10315 5246976 993 18446744073709551615 94791586291712 94791587081117 140720659878464 0 0 0 65536 4 1132560123 1 0 0 17 0 0 0 0 0 0 94791587314416 94791587362660 94791771447296 140720659884894 140720659884909 140720659884909 140720659886058 0\n",
			procStat{pid: 1972, ppid: 1971, cpu: 17 + 38, kernel: 38},
		},
		{
			// A process may name itself anything (prctl), spaces and ")" included.
			"name with spaces and parenthesis",
			"42 (gunicorn: worker) [x]) S 7 42 42 0 -1 4194560 0 0 0 0 120 30 0 0 20 0 1 0 1 1 1\n",
			procStat{pid: 42, ppid: 7, cpu: 150, kernel: 30},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatRefusesOtherText(t *testing.T) {
	for _, line := range []string{"", "1972 bash S 1971", "1972 (bash) S 1971 1972"} {
		if _, err := parseStat(line); err == nil {
			t.Errorf("parseStat(%q) took it", line)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	// A real /proc/PID/status, of a step07-docker after some work: its
	// VmHWM (the peak) is above its VmRSS (now).
	status, err := os.ReadFile("testdata/proc-status.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseVmRSS(string(status))
	if want := int64(7368 * 1024); err != nil || got != want {
		t.Errorf("parseVmRSS = %d, %v; want %d", got, err, want)
	}
}

func TestSumTree(t *testing.T) {
	// 1 ─┬─ 2 ── 4     (a master with two workers, one with a child)
	//    └─ 3          5 is someone else's process
	children := map[int][]int{1: {2, 3}, 2: {4}, 0: {1, 5}}
	cpu := map[int]int64{1: 1, 2: 10, 3: 100, 4: 1000, 5: 10000}
	if got := sumTree(1, children, cpu); got != 1111 {
		t.Errorf("sumTree = %d, want 1111", got)
	}
}
