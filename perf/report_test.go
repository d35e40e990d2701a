package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testResults() *results {
	l16, l64, closing := load{conns: 16}, load{conns: 64}, load{conns: 16, closing: true}
	rps := func(values ...float64) []sample {
		var s []sample
		for _, v := range values {
			s = append(s, sample{wrkResult: wrkResult{rps: v, requests: 1000, p99: time.Millisecond},
				cpu: cpuTimes{all: 25 * time.Millisecond, kernel: 10 * time.Millisecond}})
		}
		return s
	}
	return &results{
		servers: []string{"step07-docker", "net/http", "wsgiref"},
		loads:   []load{l16, l64, closing},
		samples: map[cell][]sample{
			{"step07-docker", l16}:     rps(41000, 39000, 40000),
			{"step07-docker", l64}:     rps(30000, 36000),
			{"step07-docker", closing}: rps(9000),
			{"net/http", l16}:          rps(40000, 38000, 42000),
			{"net/http", l64}:          rps(30000, 30000),
			{"net/http", closing}:      rps(12000),
			{"wsgiref", l16}:           rps(5000),
			// wsgiref was not measured at 64 connections
			{"wsgiref", closing}: {{wrkResult: wrkResult{rps: 6000, requests: 12000, errors: 7}}},
		},
	}
}

func TestTable(t *testing.T) {
	got := testResults().table(metrics[0])
	want := `| server | 16 conns | 64 conns | 16 conns, close |
|---|--:|--:|--:|
| step07-docker | 40,000 (1.00×) | 33,000 (1.10×) | 9,000 (0.75×) |
| net/http | 40,000 | 30,000 | 12,000 |
| wsgiref | 5,000 (0.12×) | – | 6,000 (0.50×) |
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestCPUPerRequestTables(t *testing.T) {
	// 25 ms of CPU for 1000 requests is 25 µs each, 10 ms of it in the
	// kernel; wsgiref's last run used none.
	tests := []struct {
		metric metric
		want   string
	}{
		{metrics[1], `| server | 16 conns | 64 conns | 16 conns, close |
|---|--:|--:|--:|
| step07-docker | 25.0 (1.00×) | 25.0 (1.00×) | 25.0 (1.00×) |
| net/http | 25.0 | 25.0 | 25.0 |
| wsgiref | 25.0 (1.00×) | – | 0.0 (0.00×) |
`},
		{metrics[2], `| server | 16 conns | 64 conns | 16 conns, close |
|---|--:|--:|--:|
| step07-docker | 10.0 (1.00×) | 10.0 (1.00×) | 10.0 (1.00×) |
| net/http | 10.0 | 10.0 | 10.0 |
| wsgiref | 10.0 (1.00×) | – | 0.0 (0.00×) |
`},
	}
	for _, tt := range tests {
		t.Run(tt.metric.title, func(t *testing.T) {
			if got := testResults().table(tt.metric); got != tt.want {
				t.Errorf("table:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestErrorLines(t *testing.T) {
	got := testResults().errorLines()
	want := "wsgiref, 16 conns, close: 7 errors (socket errors and non-2xx answers, all runs)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("errorLines = %q, want [%q]", got, want)
	}
}

func TestAnswersText(t *testing.T) {
	got := answersText([]namedAnswer{
		{"step04-environ", answer{bytes: 1524, firstLine: `GATEWAY_INTERFACE = "CGI/1.1"`}},
		{"odd", answer{bytes: 9, firstLine: "a|b `c`"}}, // no bar or backquote of its own ends the cell
		{"empty", answer{}},
	})
	want := "What each server answers to wrk's `GET /` (a request line and a `Host` line), as it answered before the runs:\n\n" +
		"| server | body | its first line |\n|---|--:|---|\n" +
		"| step04-environ | 1,524 bytes | `GATEWAY_INTERFACE = \"CGI/1.1\"` |\n" +
		"| odd | 9 bytes | `a\\|b 'c'` |\n" +
		"| empty | 0 bytes |  |\n\n"
	if got != want {
		t.Errorf("answersText:\n%s\nwant:\n%s", got, want)
	}
}

func TestBusyText(t *testing.T) {
	// The load when the runs end is mostly their own: only the load
	// before them says whether the machine was busy with other work.
	quiet := busyText([2]float64{0.5, 4.3}, 2)
	busy := busyText([2]float64{1.5, 9}, 2)
	if !strings.HasSuffix(quiet, "was 0.5 when the runs began and 4.3 when they ended (the runs themselves keep wrk's threads and a server busy).") {
		t.Errorf("quiet machine: %q", quiet)
	}
	if !strings.HasSuffix(busy, "Before they began, other work already kept more than half its 2 cores busy, so single runs are noisy, and a ratio says more than a figure.") {
		t.Errorf("busy machine: %q", busy)
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 31234.5: "31,235", 1234567: "1,234,567"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestReplaceBetweenMarkers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "README.md")
	before := "# Course\n\n## Performance\n\nintro\n\n" + beginMarker + "\nold figures\n" + endMarker + "\n\n## Next\n"
	if err := os.WriteFile(file, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceBetweenMarkers(file, "new figures\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	want := "# Course\n\n## Performance\n\nintro\n\n" + beginMarker + "\n\nnew figures\n\n" + endMarker + "\n\n## Next\n"
	if string(got) != want {
		t.Errorf("README after:\n%s\nwant:\n%s", got, want)
	}
}
