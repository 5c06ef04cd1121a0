// Command mapgen turns Natural Earth country boundaries (public domain), as
// the world-atlas package ships them in TopoJSON, into the compact outline
// of the border region the pages draw their map from:
//
//	npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
//	go run ./internal/web/mapgen -in package/countries-10m.json -out internal/region/region.json
//
// Only the countries of the region are kept, clipped to its box, with
// coordinates rounded to 0.01° (about a kilometre). The output is committed:
// the build and the pages need no network and no tile server.
//
// TopoJSON is decoded here by hand (quantized, delta-encoded arcs; rings as
// lists of arc indexes, negative for reversed arcs): no maintained Go
// package for it was available, and the format is a page long.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
)

type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]float64 `json:"arcs"`
	Objects struct {
		Countries struct {
			Geometries []struct {
				Type       string            `json:"type"`
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
				Arcs       json.RawMessage   `json:"arcs"`
			} `json:"geometries"`
		} `json:"countries"`
	} `json:"objects"`
}

// Region is what the pages read.
type Region struct {
	BBox      [4]float64 `json:"bbox"` // min lon, min lat, max lon, max lat
	Countries []Country  `json:"countries"`
	Source    string     `json:"source"`
}

// Country is one country's outline within the region.
type Country struct {
	Code  string         `json:"code"` // ISO 3166-1 alpha-2
	Name  string         `json:"name"`
	Rings [][][2]float64 `json:"rings"`
}

// countries of the region, by ISO numeric id.
var countries = map[string]string{
	"586": "PK", "004": "AF", "364": "IR", "356": "IN", "762": "TJ", "795": "TM", "860": "UZ", "156": "CN",
}

var bbox = [4]float64{60, 23.5, 78, 38.5}

func main() {
	in := flag.String("in", "", "world-atlas countries TopoJSON")
	out := flag.String("out", "", "region JSON to write")
	flag.Parse()
	b, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var t topology
	if err := json.Unmarshal(b, &t); err != nil {
		log.Fatal(err)
	}
	arcs := decodeArcs(t)
	r := Region{BBox: bbox, Source: "Natural Earth (public domain), via world-atlas 2.0.2 countries-10m"}
	for _, g := range t.Objects.Countries.Geometries {
		code, ok := countries[g.ID]
		if !ok {
			continue
		}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				log.Fatal(err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				log.Fatal(err)
			}
		}
		c := Country{Code: code, Name: g.Properties["name"]}
		for _, p := range polys {
			for _, ring := range p {
				if pts := round(clip(stitch(ring, arcs))); len(pts) >= 3 {
					c.Rings = append(c.Rings, pts)
				}
			}
		}
		if len(c.Rings) > 0 {
			r.Countries = append(r.Countries, c)
		}
	}
	o, err := json.Marshal(r)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(o, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d countries, %d bytes\n", *out, len(r.Countries), len(o))
}

// decodeArcs undoes the quantization and delta encoding.
func decodeArcs(t topology) [][][2]float64 {
	out := make([][][2]float64, len(t.Arcs))
	for i, arc := range t.Arcs {
		var x, y float64
		for _, p := range arc {
			x, y = x+p[0], y+p[1]
			out[i] = append(out[i], [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]})
		}
	}
	return out
}

// stitch joins a ring's arcs; ~i is arc i reversed. Consecutive arcs share
// an end point, which is kept once.
func stitch(ring []int, arcs [][][2]float64) [][2]float64 {
	var out [][2]float64
	for _, a := range ring {
		var pts [][2]float64
		if a >= 0 {
			pts = arcs[a]
		} else {
			src := arcs[^a]
			pts = make([][2]float64, len(src))
			for i := range src {
				pts[i] = src[len(src)-1-i]
			}
		}
		if len(out) > 0 {
			pts = pts[1:]
		}
		out = append(out, pts...)
	}
	return out
}

// clip cuts a ring to the region's box (Sutherland–Hodgman, one edge at a
// time).
func clip(ring [][2]float64) [][2]float64 {
	edges := []struct {
		inside func(p [2]float64) bool
		cross  func(a, b [2]float64) [2]float64
	}{
		{func(p [2]float64) bool { return p[0] >= bbox[0] }, func(a, b [2]float64) [2]float64 { return atX(a, b, bbox[0]) }},
		{func(p [2]float64) bool { return p[0] <= bbox[2] }, func(a, b [2]float64) [2]float64 { return atX(a, b, bbox[2]) }},
		{func(p [2]float64) bool { return p[1] >= bbox[1] }, func(a, b [2]float64) [2]float64 { return atY(a, b, bbox[1]) }},
		{func(p [2]float64) bool { return p[1] <= bbox[3] }, func(a, b [2]float64) [2]float64 { return atY(a, b, bbox[3]) }},
	}
	for _, e := range edges {
		if len(ring) == 0 {
			return nil
		}
		var out [][2]float64
		prev := ring[len(ring)-1]
		for _, p := range ring {
			switch {
			case e.inside(p) && !e.inside(prev):
				out = append(out, e.cross(prev, p), p)
			case e.inside(p):
				out = append(out, p)
			case e.inside(prev):
				out = append(out, e.cross(prev, p))
			}
			prev = p
		}
		ring = out
	}
	return ring
}

func atX(a, b [2]float64, x float64) [2]float64 {
	return [2]float64{x, a[1] + (b[1]-a[1])*(x-a[0])/(b[0]-a[0])}
}

func atY(a, b [2]float64, y float64) [2]float64 {
	return [2]float64{a[0] + (b[0]-a[0])*(y-a[1])/(b[1]-a[1]), y}
}

// round keeps 0.01° and drops points that round onto the previous one.
func round(ring [][2]float64) [][2]float64 {
	var out [][2]float64
	for _, p := range ring {
		q := [2]float64{math.Round(p[0]*100) / 100, math.Round(p[1]*100) / 100}
		if len(out) == 0 || out[len(out)-1] != q {
			out = append(out, q)
		}
	}
	return out
}
