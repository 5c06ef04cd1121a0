package web

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/gazetteer"
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
	View       mapView
	Labels     []placeLabel
	Markers    []marker
	Category   string
	Status     string
	From, To   string
	Categories []truce.Category
	Statuses   []string
	Groups     []string
	Count      int // allegations that match, on and off the map
	Exports    []link
	MarkersSVG template.HTML
}

// exports links the exports of the allegations a list or the map shows,
// with the same filters: the API's, which take the pages' names.
func exports(filters url.Values) []link {
	q := filters.Encode()
	return []link{
		{Label: "export.csv", Href: "/api/v1/exports/allegations.csv?" + q},
		{Label: "export.hxl", Href: "/api/v1/exports/allegations.csv?" + url.Values{"format": {"hxl"}}.Encode() + "&" + q},
		{Label: "export.geojson", Href: "/api/v1/exports/allegations.geojson?" + q},
	}
}

// mapLabelNames are the towns the map names: the provincial capitals and
// the crossings and towns the frontier's news names most. Their places
// come from the gazetteer.
var mapLabelNames = []string{"Kabul", "Islamabad", "Peshawar", "Quetta", "Kandahar", "Jalalabad", "Khost", "Gardez", "Asadabad",
	"Chaman", "Spin Boldak", "Landi Kotal", "Parachinar", "Miranshah", "Wana", "Zhob", "Ghazni", "Lashkar Gah", "Bannu",
	"Dera Ismail Khan", "Chitral"}

// placeLabel is a town named on the map.
type placeLabel struct {
	Name string
	X, Y float64
}

var mapLabels = func() []placeLabel {
	var out []placeLabel
	for _, n := range mapLabelNames {
		ps := gazetteer.Find(n)
		if len(ps) != 1 {
			panic("the gazetteer does not know the map's town " + n)
		}
		x, y := region.Project(ps[0].Lon, ps[0].Lat)
		out = append(out, placeLabel{Name: n, X: math.Round(x*10) / 10, Y: math.Round(y*10) / 10})
	}
	return out
}()

// mapView is the part of the map a page shows: zoomed by a power of two
// about a centre, in the map's coordinates, so that it works without a
// script — zooming and panning are links.
type mapView struct {
	Zoom          int     // 1, 2, 4 or 8
	X, Y, W, H    float64 // the view box
	Marker, Label float64 // a marker's radius and the labels' size at this zoom
	ScaleKM       int     // the scale bar's length
	ScaleW        float64 // and its width in the map's units
	In, Out       string  // links: zoom in and out about the centre
	N, S, E, West string  // links: pan by a third of the view
	Full          string  // the whole region
	cx, cy        float64
	filters       url.Values
}

const maxZoom = 8

// viewOf reads the zoom (z) and the centre (cx, cy) from a request,
// clamped to the region, keeping the filters in every link.
func viewOf(r *http.Request, filters url.Values) mapView {
	v := mapView{Zoom: 1, cx: region.Width / 2, cy: region.Height / 2, filters: filters}
	if z, err := strconv.Atoi(r.FormValue("z")); err == nil {
		for v.Zoom < z && v.Zoom < maxZoom {
			v.Zoom *= 2
		}
	}
	for _, p := range []struct {
		name string
		out  *float64
	}{{"cx", &v.cx}, {"cy", &v.cy}} {
		if f, err := strconv.ParseFloat(r.FormValue(p.name), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			*p.out = f
		}
	}
	v.W, v.H = region.Width/float64(v.Zoom), region.Height/float64(v.Zoom)
	v.cx = math.Min(math.Max(v.cx, v.W/2), region.Width-v.W/2)
	v.cy = math.Min(math.Max(v.cy, v.H/2), region.Height-v.H/2)
	v.X, v.Y = v.cx-v.W/2, v.cy-v.H/2
	v.Marker, v.Label = 6/math.Sqrt(float64(v.Zoom)), 14/float64(v.Zoom)
	// The scale: the longest round length within a fifth of the view.
	kmPerUnit := (region.BBox[2] - region.BBox[0]) * 111.32 * math.Cos((region.BBox[1]+region.BBox[3])/2*math.Pi/180) / region.Width
	for _, km := range []int{5, 10, 20, 25, 50, 100, 200, 250, 500} {
		if float64(km)/kmPerUnit <= v.W/5 {
			v.ScaleKM, v.ScaleW = km, math.Round(float64(km)/kmPerUnit*10)/10
		}
	}
	v.In = v.link(min(v.Zoom*2, maxZoom), v.cx, v.cy)
	v.Out = v.link(max(v.Zoom/2, 1), v.cx, v.cy)
	v.N, v.S = v.link(v.Zoom, v.cx, v.cy-v.H/3), v.link(v.Zoom, v.cx, v.cy+v.H/3)
	v.West, v.E = v.link(v.Zoom, v.cx-v.W/3, v.cy), v.link(v.Zoom, v.cx+v.W/3, v.cy)
	v.Full = v.link(1, region.Width/2, region.Height/2)
	return v
}

func (v mapView) link(zoom int, cx, cy float64) string {
	q := url.Values{}
	for k, vs := range v.filters {
		q[k] = vs
	}
	if zoom > 1 {
		q.Set("z", strconv.Itoa(zoom))
		q.Set("cx", strconv.FormatFloat(math.Round(cx), 'f', -1, 64))
		q.Set("cy", strconv.FormatFloat(math.Round(cy), 'f', -1, 64))
	}
	if len(q) == 0 {
		return "/map"
	}
	return "/map?" + q.Encode()
}

// ViewBox is the SVG's view box for the view.
func (v mapView) ViewBox() string { return fmt.Sprintf("%.1f %.1f %.1f %.1f", v.X, v.Y, v.W, v.H) }

// ZoomAt is a marker's link to the map zoomed in on it.
func (v mapView) ZoomAt(x, y float64) string { return v.link(min(v.Zoom*2, maxZoom), x, y) }

// eventGroup is a CSS class per ACLED event type.
func eventGroup(c string) string {
	cat, _ := truce.CategoryBySlug(c)
	return strings.NewReplacer(" ", "-", "/", "-").Replace(strings.ToLower(cat.EventType))
}

func (s *Server) mapPage(w http.ResponseWriter, r *http.Request, v *view) error {
	d := &mapData{Region: region, Category: r.FormValue("category"), Status: r.FormValue("status"),
		From: r.FormValue("from"), To: r.FormValue("to"), Categories: truce.Categories,
		Statuses: []string{truce.AllegationFiled, truce.AllegationAdmitted, truce.AllegationRejected, truce.AllegationInCase, truce.AllegationDecided}}
	filters := url.Values{}
	for _, k := range []string{"category", "status", "from", "to"} {
		if x := r.FormValue(k); x != "" {
			filters.Set(k, x)
		}
	}
	d.View, d.Labels, d.Exports = viewOf(r, filters), mapLabels, exports(filters)
	q := truce.Query{Type: rules.TypeAllegation, Category: d.Category, Status: d.Status, Limit: 1000,
		BBox: new(region.BBox)}
	var err error
	if q.From, q.To, err = api.Span(r); err != nil {
		v.Error = truce.ErrorMessage(err) // the map unfiltered by time, and why
	}
	recs, err := s.cfg.Read.List(r.Context(), v.who, q)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	status := map[string]string{}
	for _, rec := range recs {
		// The record's columns place and date it; of its document, only the
		// place's name is read.
		var doc struct {
			Place struct {
				Location string `json:"location"`
			} `json:"place"`
		}
		if err := json.Unmarshal(rec.Doc, &doc); err != nil || rec.Lat == nil || rec.Lon == nil {
			return fmt.Errorf("allegation %s: %v", rec.ID, err)
		}
		x, y := region.Project(*rec.Lon, *rec.Lat)
		g := eventGroup(rec.Category)
		seen[g] = true
		if _, ok := status[rec.Status]; !ok {
			status[rec.Status] = v.L.T("status." + rec.Status)
		}
		d.Markers = append(d.Markers, marker{ID: rec.ID, Title: rec.ID + " · " + doc.Place.Location + " · " + time.Unix(rec.From, 0).UTC().Format(time.DateOnly) + " · " + status[rec.Status],
			X: math.Round(x*10) / 10, Y: math.Round(y*10) / 10, Group: g, Status: rec.Status})
	}
	if d.Count, err = s.cfg.Read.Count(r.Context(), v.who, q); err != nil {
		return err
	}
	d.MarkersSVG = markersSVG(d.Markers, d.View.Marker)
	for _, c := range truce.Categories {
		if g := eventGroup(c.Slug); seen[g] && !slices.Contains(d.Groups, g) {
			d.Groups = append(d.Groups, g)
		}
	}
	s.render(w, v, "map", v.L.T("nav.map"), d)
	return nil
}

// markersSVG draws the markers in one pass: a thousand of them through
// the template's escapers, an action at a time, would take most of the
// page's time.
func markersSVG(ms []marker, r float64) template.HTML {
	var b strings.Builder
	radius := strconv.FormatFloat(r, 'f', 2, 64)
	for _, m := range ms {
		fmt.Fprintf(&b, `<a href="/allegations/%s"><circle class="marker %s s-%s" cx="%g" cy="%g" r="%s"><title>%s</title></circle></a>`+"\n",
			html.EscapeString(url.PathEscape(m.ID)), html.EscapeString(m.Group), html.EscapeString(m.Status), m.X, m.Y, radius, html.EscapeString(m.Title))
	}
	return template.HTML(b.String())
}
