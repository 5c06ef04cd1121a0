package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	outline "github.com/truce-mvm/truce/internal/region"
	"github.com/truce-mvm/truce/internal/rules"
)

// region is the outline the map is drawn on (internal/region), with the
// SVG paths of its countries made once.
var region = newRegionMap(outline.Outline)

type regionMap struct {
	*outline.Map
	Countries []countryShape
}

type countryShape struct {
	Code, Name string
	Path       string
}

func newRegionMap(m *outline.Map) *regionMap {
	r := &regionMap{Map: m}
	for _, c := range m.Countries {
		r.Countries = append(r.Countries, countryShape{Code: c.Code, Name: c.Name, Path: c.Path(1)})
	}
	return r
}

func (m *regionMap) ViewBox() string { return fmt.Sprintf("0 0 %.0f %.0f", m.Width, m.Height) }

// BBoxAttr is the region's box for the picker script: the inverse of
// project.
func (m *regionMap) BBoxAttr() string {
	return fmt.Sprintf("%g,%g,%g,%g", m.BBox[0], m.BBox[1], m.BBox[2], m.BBox[3])
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
		BBox: new(region.BBox)}
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
		x, y := region.Project(a.Place.Lon, a.Place.Lat)
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
