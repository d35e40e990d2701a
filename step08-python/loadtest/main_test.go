package main

import (
	"strings"
	"testing"
	"time"
)

// wrkOutput is wrk 4.1's --latency report, as Debian's wrk prints it.
const wrkOutput = `Running 2s test @ http://127.0.0.1:18555/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.85ms    9.91ms 117.82ms   96.56%
    Req/Sec     5.61k     1.18k    6.43k    90.00%
  Latency Distribution
     50%    0.97ms
     75%    1.48ms
     90%    2.49ms
     99%   P99
  22429 requests in 2.01s, 1.97MB read
EXTRARequests/sec:  11169.53
Transfer/sec:      0.98MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name   string
		p99    string
		extra  string
		want   result
		broken bool
	}{
		{name: "milliseconds, no errors", p99: "64.80ms",
			want: result{rps: 11169.53, p99: 64800 * time.Microsecond, requests: 22429}},
		{name: "microseconds", p99: "980.00us",
			want: result{rps: 11169.53, p99: 980 * time.Microsecond, requests: 22429}},
		{name: "seconds", p99: "1.50s",
			want: result{rps: 11169.53, p99: 1500 * time.Millisecond, requests: 22429}},
		{name: "socket errors and non-2xx", p99: "64.80ms",
			extra: "  Socket errors: connect 1, read 22429, write 2, timeout 3\n  Non-2xx or 3xx responses: 4\n",
			want:  result{rps: 11169.53, p99: 64800 * time.Microsecond, requests: 22429, connect: 1, read: 22429, write: 2, timeout: 3, non2xx: 4}},
		{name: "no 99% line", p99: "", broken: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := strings.NewReplacer("P99", tt.p99, "EXTRA", tt.extra).Replace(wrkOutput)
			got, err := parseWrk(out)
			switch {
			case tt.broken && err == nil:
				t.Fatalf("parseWrk took a report with no 99%% line: %+v", got)
			case !tt.broken && err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("parseWrk = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := (result{connect: 1, read: 100, write: 2, timeout: 3, non2xx: 4}).failures(); got != 10 {
		t.Errorf("failures() = %d, want 10: read errors are closed connections, not failures", got)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) sample { return sample{latency: time.Duration(n) * time.Millisecond} }
	var samples []sample
	for i := 100; i >= 1; i-- { // out of order on purpose
		samples = append(samples, ms(i))
	}
	if got, _ := percentile(samples, 0.5); got != ms(50) {
		t.Errorf("median of 1..100 ms = %v, want 50ms", got.format())
	}
	if got, _ := percentile(samples, 0.99); got != ms(99) {
		t.Errorf("p99 of 1..100 ms = %v, want 99ms", got.format())
	}
	// One request that was never answered outranks every answered one,
	// however short its bound.
	withTimeout := append(samples[:99:99], sample{latency: 5 * time.Millisecond, timedOut: true})
	if got, _ := percentile(withTimeout, 1); !got.timedOut || got.format() != "> 5ms" {
		t.Errorf("p100 with an unanswered request = %+v (%s), want the unanswered one", got, got.format())
	}
	if _, ok := percentile(nil, 0.5); ok {
		t.Error("percentile of no samples says it has one")
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		s    sample
		want string
	}{
		{sample{latency: 683456 * time.Nanosecond}, "683µs"},
		{sample{latency: 2723456 * time.Nanosecond}, "2.72ms"},
		{sample{latency: 1234567890}, "1.23s"},
		{sample{latency: 9 * time.Second, timedOut: true}, "> 9s"},
		{sample{latency: 8960 * time.Millisecond, timedOut: true}, "> 9s"},
	}
	for _, tt := range tests {
		if got := tt.s.format(); got != tt.want {
			t.Errorf("%+v formats as %q, want %q", tt.s, got, tt.want)
		}
	}
}
