package main

// Turning the samples into what a reader looks at: markdown tables (the
// median of the runs, and its ratio to net/http's median under the same
// load) and the bar charts.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

const yardstick = "net/http"

// metric is one figure read from each sample, with how to show it.
type metric struct {
	title  string
	unit   string
	file   string // the chart's file name; "" for no chart
	get    func(sample) float64
	format func(float64) string
	log    bool // chart on a logarithmic axis
	brief  bool // in the README too, not only in results.md
}

var metrics = []metric{
	{"Requests per second", "requests per second", "requests-per-second.svg",
		func(s sample) float64 { return s.rps }, thousands, false, true},
	{"Server CPU per request (µs; lower is better)", "µs of server CPU per request", "cpu-per-request.svg",
		func(s sample) float64 { return micros(s.cpuPerRequest()) }, oneDecimal, true, true},
	{"Of which in the kernel (µs)", "µs of kernel CPU per request", "",
		func(s sample) float64 { return micros(s.kernelPerRequest()) }, oneDecimal, false, false},
	{"p99 latency (ms)", "ms, 99th percentile", "p99-latency.svg",
		func(s sample) float64 { return millis(s.p99) }, millisText, true, true},
	{"p50 latency (ms)", "ms, median", "",
		func(s sample) float64 { return millis(s.p50) }, millisText, false, false},
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize is the median of the runs and their range.
func summarize(samples []sample, get func(sample) float64) bar {
	if len(samples) == 0 {
		return bar{math.NaN(), math.NaN(), math.NaN()}
	}
	values := make([]float64, len(samples))
	for i, s := range samples {
		values[i] = get(s)
	}
	slices.Sort(values)
	return bar{value: median(values), low: values[0], high: values[len(values)-1]}
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func (r *results) summary(server string, l load, m metric) bar {
	return summarize(r.samples[cell{server, l}], m.get)
}

func loadHeader(l load) string {
	switch {
	case l.closing:
		return fmt.Sprintf("%d conns, close", l.conns)
	case l.conns == 1:
		return "1 conn"
	}
	return fmt.Sprintf("%d conns", l.conns)
}

// table is a markdown table of m: a row per server, a column per load,
// each cell the median and its ratio to net/http's.
func (r *results) table(m metric) string {
	var b strings.Builder
	b.WriteString("| server |")
	for _, l := range r.loads {
		b.WriteString(" " + loadHeader(l) + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(r.loads)) + "\n")
	for _, name := range r.servers {
		b.WriteString("| " + name + " |")
		for _, l := range r.loads {
			b.WriteString(" " + r.cellText(name, l, m) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (r *results) cellText(name string, l load, m metric) string {
	v := r.summary(name, l, m).value
	if math.IsNaN(v) {
		return "–"
	}
	text := m.format(v)
	if base := r.summary(yardstick, l, m).value; name != yardstick && base > 0 && !math.IsNaN(base) {
		text += fmt.Sprintf(" (%.2f×)", v/base)
	}
	return text
}

// errorLines lists every cell where wrk saw errors, which make its
// figures for that cell suspect.
func (r *results) errorLines() []string {
	var lines []string
	for _, name := range r.servers {
		for _, l := range r.loads {
			var n int64
			for _, s := range r.samples[cell{name, l}] {
				n += s.errors
			}
			if n > 0 {
				lines = append(lines, fmt.Sprintf("%s, %s: %s errors (socket errors and non-2xx answers, all runs)", name, loadHeader(l), thousands(float64(n))))
			}
		}
	}
	return lines
}

// chart is m for every server and load, as grouped bars.
func (r *results) chart(m metric) barChart {
	c := barChart{title: m.title, unit: m.unit, groups: r.servers, logScale: m.log}
	for _, l := range r.loads {
		c.series = append(c.series, loadHeader(l))
	}
	for _, name := range r.servers {
		var group []bar
		for _, l := range r.loads {
			group = append(group, r.summary(name, l, m))
		}
		c.bars = append(c.bars, group)
	}
	return c
}

// thousands writes 31234.5 as "31,235".
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func oneDecimal(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func millisText(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
