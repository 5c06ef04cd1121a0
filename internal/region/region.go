// Package region is the border region the maps are drawn on: its outline
// (region.json, made by internal/web/mapgen from Natural Earth) and one
// projection, equirectangular at the region's middle latitude — at this
// size the distortion is small and the projection is a line of arithmetic
// that markers share. The pages and the situation reports draw from it,
// so a place falls on the same spot in both.
package region

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

//go:embed region.json
var outlineJSON []byte

// Map is the region projected onto a plane Width wide and Height high,
// y downwards.
type Map struct {
	BBox          [4]float64 // min lon, min lat, max lon, max lat
	Width, Height float64
	Countries     []Country
}

// Country is one country's outline, clipped to the region, its rings in
// the map's coordinates.
type Country struct {
	Code, Name string
	Rings      [][][2]float64
}

// Width is the width the outline is projected to.
const Width = 1000

// Outline is the region at Width.
var Outline = mustLoad()

func mustLoad() *Map {
	var r struct {
		BBox      [4]float64 `json:"bbox"`
		Countries []struct {
			Code, Name string
			Rings      [][][2]float64
		} `json:"countries"`
	}
	if err := json.Unmarshal(outlineJSON, &r); err != nil {
		panic(err) // region.json is part of the build; its tests read it
	}
	m := &Map{BBox: r.BBox, Width: Width}
	m.Height = math.Round(m.Width * (r.BBox[3] - r.BBox[1]) / ((r.BBox[2] - r.BBox[0]) * m.kx()))
	for _, c := range r.Countries {
		out := Country{Code: c.Code, Name: c.Name}
		for _, ring := range c.Rings {
			pts := make([][2]float64, len(ring))
			for i, pt := range ring {
				pts[i][0], pts[i][1] = m.Project(pt[0], pt[1])
			}
			out.Rings = append(out.Rings, pts)
		}
		m.Countries = append(m.Countries, out)
	}
	return m
}

// kx is the cosine of the middle latitude: a degree of longitude's length
// against a degree of latitude's.
func (m *Map) kx() float64 {
	return math.Cos((m.BBox[1] + m.BBox[3]) / 2 * math.Pi / 180)
}

// Project maps a point to the map's coordinates.
func (m *Map) Project(lon, lat float64) (x, y float64) {
	x = (lon - m.BBox[0]) / (m.BBox[2] - m.BBox[0]) * m.Width
	y = (m.BBox[3] - lat) / (m.BBox[3] - m.BBox[1]) * m.Height
	return x, y
}

// Contains reports whether a point is within the region's box.
func (m *Map) Contains(lon, lat float64) bool {
	return lon >= m.BBox[0] && lon <= m.BBox[2] && lat >= m.BBox[1] && lat <= m.BBox[3]
}

// Path is a country's outline as an SVG path, scaled by k.
func (c Country) Path(k float64) string {
	var p strings.Builder
	for _, ring := range c.Rings {
		for i, pt := range ring {
			op := "L"
			if i == 0 {
				op = "M"
			}
			fmt.Fprintf(&p, "%s%.1f %.1f", op, pt[0]*k, pt[1]*k)
		}
		p.WriteString("Z")
	}
	return p.String()
}
