package main

// Grouped bar charts, written as SVG by hand: a group of bars per server,
// one bar per load, each with a thin line from the lowest to the highest
// of its runs. SVG is text, so the chart diffs in git and shows on GitHub.

import (
	"fmt"
	"math"
	"strings"
)

// bar is one bar: the median of the runs and their range. A NaN value is
// a server that was not measured at that load: no bar is drawn.
type bar struct{ value, low, high float64 }

type barChart struct {
	title    string
	unit     string   // what the axis counts, such as "requests per second"
	groups   []string // one group of bars per server
	series   []string // one bar per series (load) in each group
	bars     [][]bar  // bars[group][series]
	logScale bool     // for values that differ by orders of magnitude
}

// Sizes in pixels.
const (
	barWidth    = 9
	groupGap    = 14
	plotHeight  = 300
	leftMargin  = 70
	topMargin   = 60
	labelHeight = 110 // room for the server names, slanted, under the axis
)

// palette is one colour per series: Paul Tol's "bright" scheme, which
// colour-blind readers can tell apart too.
var palette = []string{"#4477aa", "#66ccee", "#228833", "#ccbb44", "#ee6677", "#aa3377"}

func (c barChart) svg() string {
	groupWidth := len(c.series)*barWidth + groupGap
	width := leftMargin + len(c.groups)*groupWidth + 20
	height := topMargin + plotHeight + labelHeight
	y := c.scale()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", leftMargin, escape(c.title))
	c.writeLegend(&b)
	c.writeAxis(&b, y, width)
	for g, name := range c.groups {
		x0 := leftMargin + g*groupWidth + groupGap/2
		for s, v := range c.bars[g] {
			if math.IsNaN(v.value) {
				continue
			}
			x := x0 + s*barWidth
			top := y.pixel(v.value)
			fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s, %s: %s %s</title></rect>`+"\n",
				x, top, barWidth-1, float64(topMargin+plotHeight)-top, palette[s%len(palette)],
				escape(name), escape(c.series[s]), formatValue(v.value), escape(c.unit))
			mid := float64(x) + float64(barWidth-1)/2
			fmt.Fprintf(&b, `<line class="range" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black" stroke-width="1"/>`+"\n",
				mid, mid, y.pixel(v.low), y.pixel(v.high))
		}
		// The server's name, slanted so that long names do not overlap.
		lx, ly := x0+len(c.series)*barWidth/2, topMargin+plotHeight+12
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" transform="rotate(-40 %d %d)">%s</text>`+"\n", lx, ly, lx, ly, escape(name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func (c barChart) writeLegend(b *strings.Builder) {
	for s, name := range c.series {
		x := leftMargin + s*110
		fmt.Fprintf(b, `<rect x="%d" y="30" width="10" height="10" fill="%s"/><text x="%d" y="39">%s</text>`+"\n",
			x, palette[s%len(palette)], x+14, escape(name))
	}
}

// writeAxis draws the value axis with its ticks and a light grid line at
// each, and the unit.
func (c barChart) writeAxis(b *strings.Builder, y axis, width int) {
	bottom := topMargin + plotHeight
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", leftMargin, leftMargin, topMargin, bottom)
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", leftMargin, width-10, bottom, bottom)
	for _, t := range y.ticks() {
		py := y.pixel(t)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#dddddd"/>`+"\n", leftMargin+1, width-10, py, py)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", leftMargin-4, py+4, formatValue(t))
	}
	fmt.Fprintf(b, `<text x="14" y="%d" text-anchor="middle" transform="rotate(-90 14 %d)">%s</text>`+"\n",
		topMargin+plotHeight/2, topMargin+plotHeight/2, escape(c.unit))
}

// axis maps values to pixels: linear from 0, or logarithmic between two
// powers of ten.
type axis struct {
	log      bool
	min, max float64
}

func (c barChart) scale() axis {
	lowest, highest := math.Inf(1), 0.0
	for _, group := range c.bars {
		for _, v := range group {
			if !math.IsNaN(v.value) {
				lowest = math.Min(lowest, math.Min(v.low, v.value))
				highest = math.Max(highest, math.Max(v.high, v.value))
			}
		}
	}
	if highest <= 0 {
		highest = 1
	}
	if c.logScale {
		lowest = math.Max(lowest, highest/1e6) // a zero has no logarithm
		return axis{log: true, min: math.Pow(10, math.Floor(math.Log10(lowest))), max: math.Pow(10, math.Ceil(math.Log10(highest)))}
	}
	return axis{max: niceCeiling(highest)}
}

func (a axis) pixel(v float64) float64 {
	f := v / a.max
	if a.log {
		v = math.Max(v, a.min)
		f = math.Log10(v/a.min) / math.Log10(a.max/a.min)
	}
	return float64(topMargin) + float64(plotHeight)*(1-f)
}

func (a axis) ticks() []float64 {
	var ts []float64
	if a.log {
		for t := a.min; t <= a.max*1.001; t *= 10 {
			ts = append(ts, t)
		}
		return ts
	}
	for i := range 6 {
		ts = append(ts, a.max*float64(i)/5)
	}
	return ts
}

// niceCeiling rounds up to 1, 2 or 5 times a power of ten, so that the
// five ticks fall on round numbers.
func niceCeiling(v float64) float64 {
	power := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*power {
			return m * power
		}
	}
	return 10 * power
}

// formatValue writes a number the way a chart reader wants it: 45k, 1.5,
// 0.02.
func formatValue(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gk", math.Round(v/100)/10)
	case v >= 10 || v == 0:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%g", math.Round(v*10)/10) // 1.5, and 1 rather than 1.0
	}
	return fmt.Sprintf("%.2g", v)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func escape(s string) string { return escaper.Replace(s) }
