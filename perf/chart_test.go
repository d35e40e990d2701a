package main

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgBar is a bar as read back from the SVG.
type svgBar struct {
	height float64
	title  string
}

// readSVG parses the chart as XML (failing the test if it is not well
// formed) and returns its root element's name and its bars.
func readSVG(t *testing.T, svg string) (root xml.Name, bars []svgBar) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var current *svgBar
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return root, bars
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root.Local == "" {
				root = tok.Name
			}
			if tok.Name.Local == "rect" && attr(tok, "class") == "bar" {
				h, err := strconv.ParseFloat(attr(tok, "height"), 64)
				if err != nil {
					t.Fatalf("bar height: %v", err)
				}
				bars = append(bars, svgBar{height: h})
				current = &bars[len(bars)-1]
			}
		case xml.CharData:
			if current != nil {
				current.title += string(tok)
			}
		case xml.EndElement:
			if tok.Name.Local == "rect" {
				current = nil
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func testChart(log bool) barChart {
	return barChart{
		title:  "Requests <per> second",
		unit:   "requests per second",
		groups: []string{"step07-docker", "net/http"},
		series: []string{"16 conns", "64 conns", "close & 16"},
		bars: [][]bar{
			{{40000, 39000, 41000}, {20000, 19000, 22000}, {10000, 9000, 11000}},
			{{30000, 29000, 31000}, {math.NaN(), math.NaN(), math.NaN()}, {100, 90, 110}},
		},
		logScale: log,
	}
}

func TestChartIsSVGWithABarPerMeasuredValue(t *testing.T) {
	for _, log := range []bool{false, true} {
		t.Run("log="+strconv.FormatBool(log), func(t *testing.T) {
			root, bars := readSVG(t, testChart(log).svg())
			if root.Space != "http://www.w3.org/2000/svg" || root.Local != "svg" {
				t.Errorf("root element %v, want svg in the SVG namespace", root)
			}
			// Five bars: the NaN (a server not measured at that load) has none.
			wantTitles := []string{
				"step07-docker, 16 conns: 40k requests per second",
				"step07-docker, 64 conns: 20k requests per second",
				"step07-docker, close & 16: 10k requests per second",
				"net/http, 16 conns: 30k requests per second",
				"net/http, close & 16: 100 requests per second",
			}
			if len(bars) != len(wantTitles) {
				t.Fatalf("%d bars, want %d: %+v", len(bars), len(wantTitles), bars)
			}
			for i, want := range wantTitles {
				if bars[i].title != want {
					t.Errorf("bar %d is titled %q, want %q", i, bars[i].title, want)
				}
			}
			// A bigger value is a taller bar.
			if !(bars[0].height > bars[3].height && bars[3].height > bars[1].height &&
				bars[1].height > bars[2].height && bars[2].height > bars[4].height && bars[4].height > 0) {
				t.Errorf("bar heights do not follow the values 40k > 30k > 20k > 10k > 100: %+v", bars)
			}
		})
	}
}

func TestLinearAxisIsProportional(t *testing.T) {
	_, bars := readSVG(t, testChart(false).svg())
	// 40k and 20k: the axis starts at 0, so one bar is twice the other.
	if ratio := bars[0].height / bars[1].height; math.Abs(ratio-2) > 0.01 {
		t.Errorf("40k bar / 20k bar = %.3f, want 2", ratio)
	}
}

func TestLogAxisIsLogarithmic(t *testing.T) {
	_, bars := readSVG(t, testChart(true).svg())
	// The axis runs from 10 (below the lowest run, 90) to 100k (above
	// the highest, 41k): 4 decades. 10k is 3 decades up, 100 is 1.
	if ratio := bars[2].height / bars[4].height; math.Abs(ratio-3) > 0.01 {
		t.Errorf("10k bar / 100 bar = %.3f, want 3", ratio)
	}
}

func TestNiceCeiling(t *testing.T) {
	for v, want := range map[float64]float64{0.7: 1, 1: 1, 1.2: 2, 3: 5, 7: 10, 45000: 50000, 62889: 100000} {
		if got := niceCeiling(v); got != want {
			t.Errorf("niceCeiling(%v) = %v, want %v", v, got, want)
		}
	}
}
