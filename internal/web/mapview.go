package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
)

// region is the outline the map is drawn on (static/region.json, made by
// mapgen from Natural Earth), projected once, equirectangular at the
// region's middle latitude: at this size the distortion is small and the
// projection is a line of arithmetic that the markers share.
var region = mustLoadRegion()

type regionMap struct {
	bbox          [4]float64
	width, height float64
	Countries     []countryShape
}

type countryShape struct {
	Code, Name string
	Path       string
}

const mapWidth = 1000

func mustLoadRegion() *regionMap {
	b, err := staticFiles.ReadFile("static/region.json")
	if err != nil {
		panic(err)
	}
	var r struct {
		BBox      [4]float64 `json:"bbox"`
		Countries []struct {
			Code, Name string
			Rings      [][][2]float64
		} `json:"countries"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		panic(err)
	}
	m := &regionMap{bbox: r.BBox, width: mapWidth}
	m.height = math.Round(m.width * (r.BBox[3] - r.BBox[1]) / ((r.BBox[2] - r.BBox[0]) * m.kx()))
	for _, c := range r.Countries {
		var p strings.Builder
		for _, ring := range c.Rings {
			for i, pt := range ring {
				x, y := m.project(pt[0], pt[1])
				if i == 0 {
					fmt.Fprintf(&p, "M%.1f %.1f", x, y)
				} else {
					fmt.Fprintf(&p, "L%.1f %.1f", x, y)
				}
			}
			p.WriteString("Z")
		}
		m.Countries = append(m.Countries, countryShape{Code: c.Code, Name: c.Name, Path: p.String()})
	}
	return m
}

// kx is the cosine of the middle latitude: a degree of longitude's length
// against a degree of latitude's.
func (m *regionMap) kx() float64 {
	return math.Cos((m.bbox[1] + m.bbox[3]) / 2 * math.Pi / 180)
}

// project maps a point to the SVG's coordinates.
func (m *regionMap) project(lon, lat float64) (x, y float64) {
	x = (lon - m.bbox[0]) / (m.bbox[2] - m.bbox[0]) * m.width
	y = (m.bbox[3] - lat) / (m.bbox[3] - m.bbox[1]) * m.height
	return x, y
}

func (m *regionMap) ViewBox() string { return fmt.Sprintf("0 0 %.0f %.0f", m.width, m.height) }

// BBoxAttr is the region's box for the picker script: the inverse of
// project.
func (m *regionMap) BBoxAttr() string {
	return fmt.Sprintf("%g,%g,%g,%g", m.bbox[0], m.bbox[1], m.bbox[2], m.bbox[3])
}

// marker is an allegation on the map.
type marker struct {
	ID, Title string
	X, Y      float64
	Group     string // event type, for the marker's colour
	Status    string
}

type mapData struct {
	Region     *regionMap
	Markers    []marker
	Outside    int // allegations placed outside the region
	Category   string
	Status     string
	From, To   string
	Categories []truce.Category
	Statuses   []string
	Groups     []string
}

// eventGroup is a CSS class per ACLED event type.
func eventGroup(c string) string {
	cat, _ := truce.CategoryBySlug(c)
	return strings.NewReplacer(" ", "-", "/", "-").Replace(strings.ToLower(cat.EventType))
}

func (s *Server) mapPage(w http.ResponseWriter, r *http.Request, v *view) error {
	d := &mapData{Region: region, Category: r.FormValue("category"), Status: r.FormValue("status"),
		From: r.FormValue("from"), To: r.FormValue("to"), Categories: truce.Categories,
		Statuses: []string{truce.AllegationFiled, truce.AllegationAdmitted, truce.AllegationRejected, truce.AllegationInCase, truce.AllegationDecided}}
	q := truce.Query{Type: rules.TypeAllegation, Category: d.Category, Status: d.Status, Limit: 1000,
		BBox: &[4]float64{region.bbox[0], region.bbox[1], region.bbox[2], region.bbox[3]}}
	for _, b := range []struct {
		in  string
		out *int64
		end bool
	}{{d.From, &q.From, false}, {d.To, &q.To, true}} {
		if b.in == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, b.in)
		if err != nil {
			v.Error = v.L.T("map.bad_date")
			continue
		}
		if b.end {
			t = t.Add(24*time.Hour - time.Second)
		}
		*b.out = t.Unix()
	}
	recs, err := s.cfg.Read.List(r.Context(), v.who, q)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		a, err := decode[truce.Allegation](rec.Doc)
		if err != nil {
			return err
		}
		x, y := region.project(a.Place.Lon, a.Place.Lat)
		g := eventGroup(a.Category)
		seen[g] = true
		d.Markers = append(d.Markers, marker{ID: a.ID, Title: a.ID + " · " + a.Place.Location + " · " + a.Occurred.From.UTC().Format("2006-01-02"),
			X: math.Round(x*10) / 10, Y: math.Round(y*10) / 10, Group: g, Status: a.Status})
	}
	for _, c := range truce.Categories {
		if g := eventGroup(c.Slug); seen[g] && !slices.Contains(d.Groups, g) {
			d.Groups = append(d.Groups, g)
		}
	}
	s.render(w, v, "map", v.L.T("nav.map"), d)
	return nil
}
