package main

import (
	"os"
	"testing"
	"time"
)

// The samples in testdata are wrk 4.1.0's real output: step07 under 16
// connections, and step07 capped at 8 connections asked for a missing
// page (503s, 404s and cut connections).
func TestParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want wrkResult
	}{
		{"wrk-keepalive.txt", wrkResult{rps: 33640.98, requests: 36982, p50: 354 * time.Microsecond, p99: 5630 * time.Microsecond}},
		{"wrk-errors.txt", wrkResult{rps: 11895.99, requests: 12046, p50: 357 * time.Microsecond, p99: 12870 * time.Microsecond, errors: 17930 + 12046}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseWrk(string(out))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseWrk = %+v\nwant        %+v", got, tt.want)
			}
		})
	}
}

func TestParseWrkRefusesOutputWithoutTheFigures(t *testing.T) {
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("parseWrk took wrk's connection error as a result")
	}
}

func TestWrkDuration(t *testing.T) {
	tests := []struct {
		value, unit string
		want        time.Duration
	}{
		{"354.00", "us", 354 * time.Microsecond},
		{"2.07", "ms", 2070 * time.Microsecond}, // not 2.069999ms
		{"1.50", "s", 1500 * time.Millisecond},
		{"1.00", "m", time.Minute},
	}
	for _, tt := range tests {
		if got := wrkDuration(tt.value, tt.unit); got != tt.want {
			t.Errorf("wrkDuration(%q, %q) = %v, want %v", tt.value, tt.unit, got, tt.want)
		}
	}
}
