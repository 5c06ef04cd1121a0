package sitrep

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/truce-mvm/truce/internal/region"
)

// figure is a drawing laid out once, in its own units (y downwards), for
// the SVG and the PDF renderers to draw the same.
type figure struct {
	W, H   float64
	Label  string // what it shows, for readers who cannot see it
	Shapes []shape
}

type shapeKind int

const (
	rect shapeKind = iota // X, Y, W, H
	line                  // X, Y to X+W, Y+H
	text                  // at X, Y (baseline), Size, Anchor
	poly                  // Points, closed
	dot                   // centre X, Y, radius W
)

type shape struct {
	Kind         shapeKind
	X, Y, W, H   float64
	Points       [][2]float64
	Fill, Stroke string // #rrggbb, or "" for none
	Text         string
	Size         float64
	Anchor       string // start, middle or end
	Title        string // what the shape is, shown on hover in SVG
}

// palette colours the parties in their order; Unknown is grey.
var palette = []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

const unknownColour = "#7f7f7f"

// PartyColour is the colour a party's bars and markers are drawn in.
func (s *Situation) PartyColour(code string) string {
	i := slices.IndexFunc(s.Parties, func(p Party) bool { return p.Code == code })
	if code == Unknown || i < 0 {
		return unknownColour
	}
	return palette[i%len(palette)]
}

// tint is a colour halfway to white: findings beside allegations.
func tint(c string) string {
	v, _ := strconv.ParseUint(c[1:], 16, 32)
	r, g, b := v>>16, v>>8&0xff, v&0xff
	return fmt.Sprintf("#%02x%02x%02x", (r+255)/2, (g+255)/2, (b+255)/2)
}

// series are the parties the chart draws: every party of the agreement,
// and Unknown if anything is counted against it.
func (s *Situation) series() []int {
	var out []int
	for i, p := range s.Parties {
		if p.Code != Unknown || slices.ContainsFunc(s.Days, func(d Day) bool { return d.Allegations[i]+d.Findings[i] > 0 }) {
			out = append(out, i)
		}
	}
	return out
}

const (
	chartW, chartH = 640.0, 280.0
	inkColour      = "#333333"
	gridColour     = "#dddddd"
)

// chart lays out the bars of allegations and findings per day per party.
func (s *Situation) chart() figure {
	f := figure{W: chartW, H: chartH, Label: "Allegations and findings per day, by party"}
	left, right, top, bottom := 36.0, 8.0, 46.0, 34.0
	plotW, plotH := chartW-left-right, chartH-top-bottom
	series := s.series()
	// Legend: a swatch and a name for each party's allegations and
	// findings, in rows as wide as the chart.
	x, ly := left, 10.0
	for _, i := range series {
		c := s.PartyColour(s.Parties[i].Code)
		for j, what := range []string{"allegations", "findings"} {
			fill := c
			if j == 1 {
				fill = tint(c)
			}
			label := s.Parties[i].Code + " " + what
			w := 22 + 5.6*float64(len(label))
			if x+w > chartW {
				x, ly = left, ly+14
			}
			f.Shapes = append(f.Shapes, shape{Kind: rect, X: x, Y: ly, W: 10, H: 10, Fill: fill},
				shape{Kind: text, X: x + 14, Y: ly + 9, Text: label, Size: 10, Anchor: "start", Fill: inkColour})
			x += w
		}
	}
	top0 := max(top, ly+26)
	plotH = chartH - top0 - bottom
	maxN := 1
	for _, d := range s.Days {
		for _, i := range series {
			maxN = max(maxN, d.Allegations[i], d.Findings[i])
		}
	}
	step := int(math.Ceil(float64(maxN) / 5))
	yMax := step * int(math.Ceil(float64(maxN)/float64(step)))
	yOf := func(n int) float64 { return top0 + plotH - plotH*float64(n)/float64(yMax) }
	for n := 0; n <= yMax; n += step {
		y := yOf(n)
		f.Shapes = append(f.Shapes, shape{Kind: line, X: left, Y: y, W: plotW, Stroke: gridColour},
			shape{Kind: text, X: left - 4, Y: y + 3.5, Text: strconv.Itoa(n), Size: 9, Anchor: "end", Fill: inkColour})
	}
	f.Shapes = append(f.Shapes, shape{Kind: line, X: left, Y: top0 + plotH, W: plotW, Stroke: inkColour})
	if len(s.Days) == 0 || len(series) == 0 {
		return f
	}
	gw := plotW / float64(len(s.Days))
	bw := gw * 0.8 / float64(2*len(series))
	every := max(1, int(math.Ceil(float64(len(s.Days))/8)))
	for di, d := range s.Days {
		gx := left + gw*float64(di) + gw*0.1
		for k, i := range series {
			c := s.PartyColour(s.Parties[i].Code)
			for j, n := range []int{d.Allegations[i], d.Findings[i]} {
				if n == 0 {
					continue
				}
				fill, what := c, "allegations"
				if j == 1 {
					fill, what = tint(c), "findings"
				}
				bx := gx + bw*float64(2*k+j)
				f.Shapes = append(f.Shapes, shape{Kind: rect, X: bx, Y: yOf(n), W: bw, H: yOf(0) - yOf(n), Fill: fill,
					Title: fmt.Sprintf("%s: %d %s against %s", d.Date, n, what, s.Parties[i].Code)})
			}
		}
		if di%every == 0 {
			f.Shapes = append(f.Shapes, shape{Kind: text, X: left + gw*(float64(di)+0.5), Y: top0 + plotH + 14, Text: d.Date[5:], Size: 9, Anchor: "middle", Fill: inkColour})
		}
	}
	f.Shapes = append(f.Shapes, shape{Kind: text, X: left + plotW/2, Y: chartH - 4, Text: "day (UTC)", Size: 9, Anchor: "middle", Fill: inkColour})
	return f
}

const (
	mapW       = 640.0
	LandColour = "#f2efe9" // the map's land, which tests of a rendering look for
	edgeColour = "#8a8a8a"
)

// atlas lays out the region, its countries named, and the new
// allegations as dots in the accused party's colour.
func (s *Situation) atlas() figure {
	m := region.Outline
	k := mapW / m.Width
	f := figure{W: mapW, H: math.Round(m.Height * k), Label: "Map of the new allegations, coloured by the party accused"}
	f.Shapes = append(f.Shapes, shape{Kind: rect, X: 0, Y: 0, W: f.W, H: f.H, Fill: "#dbe9f4"})
	var labels []shape
	for _, c := range m.Countries {
		var biggest [][2]float64
		for _, ring := range c.Rings {
			pts := make([][2]float64, len(ring))
			for i, p := range ring {
				pts[i] = [2]float64{p[0] * k, p[1] * k}
			}
			f.Shapes = append(f.Shapes, shape{Kind: poly, Points: pts, Fill: LandColour, Stroke: edgeColour, Title: c.Name})
			if len(pts) > len(biggest) {
				biggest = pts
			}
		}
		if len(biggest) > 0 {
			x0, y0, x1, y1 := bounds(biggest)
			labels = append(labels, shape{Kind: text, X: (x0 + x1) / 2, Y: (y0 + y1) / 2, Text: c.Name, Size: 11, Anchor: "middle", Fill: "#6b6b6b"})
		}
	}
	f.Shapes = append(f.Shapes, labels...)
	for _, p := range s.Places {
		if !m.Contains(p.Lon, p.Lat) {
			continue
		}
		x, y := m.Project(p.Lon, p.Lat)
		f.Shapes = append(f.Shapes, shape{Kind: dot, X: x * k, Y: y * k, W: 5, Fill: s.PartyColour(p.Accused), Stroke: "#ffffff",
			Title: p.ID + " (against " + p.Accused + ")"})
	}
	// Legend: what a dot's colour says, bottom left, on white.
	y := f.H - 10 - 16*float64(len(s.Parties))
	f.Shapes = append(f.Shapes, shape{Kind: rect, X: 8, Y: y - 6, W: 130, H: 16*float64(len(s.Parties)) + 8, Fill: "#ffffff", Stroke: edgeColour})
	for i, p := range s.Parties {
		cy := y + 16*float64(i) + 5
		f.Shapes = append(f.Shapes, shape{Kind: dot, X: 20, Y: cy, W: 5, Fill: s.PartyColour(p.Code), Stroke: "#ffffff"},
			shape{Kind: text, X: 32, Y: cy + 4, Text: "against " + p.Code, Size: 11, Anchor: "start", Fill: inkColour})
	}
	return f
}

// Outside counts the new allegations placed outside the map.
func (s *Situation) Outside() int {
	n := 0
	for _, p := range s.Places {
		if !region.Outline.Contains(p.Lon, p.Lat) {
			n++
		}
	}
	return n
}

func bounds(pts [][2]float64) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		x0, y0, x1, y1 = min(x0, p[0]), min(y0, p[1]), max(x1, p[0]), max(y1, p[1])
	}
	return x0, y0, x1, y1
}
