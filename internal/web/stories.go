package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/gazetteer"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/wire"
)

type storiesData struct {
	Items    []*truce.Story
	Disputed bool
	Next     string
}

// stories lists the open-source stories, newest first; ?disputed=1 keeps
// those whose sources disagree.
func (s *Server) stories(w http.ResponseWriter, r *http.Request, v *view) error {
	q := truce.Query{Type: rules.TypeStory, Limit: 50}
	d := &storiesData{Disputed: r.FormValue("disputed") == "1"}
	disputed := ""
	if d.Disputed {
		q.Status, disputed = "disputed", "1"
	}
	var err error
	if d.Items, d.Next, err = listPage[truce.Story](s, r, v, q, "/stories", url.Values{"disputed": {disputed}}); err != nil {
		return err
	}
	// Stories whose sources were all moved elsewhere are kept, not listed.
	d.Items = slices.DeleteFunc(d.Items, func(st *truce.Story) bool { return len(st.Sources) == 0 })
	s.render(w, v, "stories", v.L.T("nav.stories"), d)
	return nil
}

type storyData struct {
	S           *truce.Story
	Outlets     map[string]string // outlet name → reliability
	Timeline    []entryView
	Receipt     string
	Actions     []link
	Attribution string
}

func (s *Server) story(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	rec, hist, err := s.cfg.Read.Get(r.Context(), v.who, rules.TypeStory, id)
	if err != nil {
		return err
	}
	st, err := decode[truce.Story](rec.Doc)
	if err != nil {
		return err
	}
	d := &storyData{S: st, Outlets: map[string]string{}, Timeline: s.timeline(v, hist), Receipt: wire.ReceiptPath(rules.TypeStory, id),
		Actions: offer(v, "story", id, []string{rules.KindSourceLinked}), Attribution: gazetteer.Attribution}
	for _, src := range st.Sources {
		if _, ok := d.Outlets[src.Outlet]; !ok {
			if d.Outlets[src.Outlet], err = s.reliability(r, v, src.Outlet); err != nil {
				return err
			}
		}
	}
	s.render(w, v, "story", st.Title, d)
	return nil
}

type sourceData struct {
	S           *truce.Report
	Reliability string
	Paragraphs  []string
	Page        string // the raw page, for those who may read the mechanism's files
	Timeline    []entryView
	Receipt     string
	Actions     []link
	Attribution string
}

// source shows one ingested article: where it stands (its story, what it
// copies), what it claims in its own sentences, and its text.
func (s *Server) source(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	rec, hist, err := s.cfg.Read.Get(r.Context(), v.who, rules.TypeSource, id)
	if err != nil {
		return err
	}
	src, err := decode[truce.Report](rec.Doc)
	if err != nil {
		return err
	}
	d := &sourceData{S: src, Timeline: s.timeline(v, hist), Receipt: wire.ReceiptPath(rules.TypeSource, id),
		Actions: offer(v, "source", id, []string{rules.KindSourceLinked, rules.KindSourceMoved}), Attribution: gazetteer.Attribution}
	if v.Access.Sees(truce.Internal, "") {
		d.Page = "/api/v1/blobs/" + src.SHA256
	}
	text, err := s.cfg.Read.SourceText(r.Context(), v.who, rec)
	if err != nil {
		return err
	}
	for _, p := range strings.Split(text, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			d.Paragraphs = append(d.Paragraphs, p)
		}
	}
	if d.Reliability, err = s.reliability(r, v, src.Outlet); err != nil {
		return err
	}
	s.render(w, v, "source", src.Title, d)
	return nil
}

// reliability is an outlet's grade, "" if it has no record yet.
func (s *Server) reliability(r *http.Request, v *view, outlet string) (string, error) {
	rec, _, err := s.cfg.Read.Get(r.Context(), v.who, rules.TypeOutlet, rules.OutletID(outlet))
	if truce.ErrorCode(err) == truce.CodeNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	o, err := decode[truce.Outlet](rec.Doc)
	if err != nil {
		return "", err
	}
	return o.Reliability, nil
}

// related is a story that may bear on an allegation.
type related struct {
	Story *truce.Story
	Place string // the place it names nearest the event
	KM    int
	Link  string // the form tying it to the allegation, for those who may
}

// Reports that may bear on an allegation: published within relatedDays of
// the event, naming a place within relatedKM of it.
const (
	relatedDays = 3
	relatedKM   = 50
)

// relatedStories lists the stories, not yet tied to an allegation, that
// may bear on it — for the analyst to read and, if they do, to tie.
func (s *Server) relatedStories(r *http.Request, v *view, a *truce.Allegation) ([]related, error) {
	at := a.Occurred.From
	q := truce.Query{Type: rules.TypeStory, Limit: 200,
		From: at.Add(-relatedDays * 24 * time.Hour).Unix(), To: at.Add(relatedDays * 24 * time.Hour).Unix()}
	recs, err := s.cfg.Read.List(r.Context(), v.who, q)
	if err != nil {
		return nil, err
	}
	canLink := v.Member != nil && slices.Contains(rules.Roles(rules.KindSourceLinked), v.Member.Role)
	var out []related
	for _, rec := range recs {
		st, err := decode[truce.Story](rec.Doc)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(a.Links, func(l truce.Link) bool { return l.Story == st.ID }) {
			continue
		}
		best := related{KM: relatedKM + 1}
		for _, p := range st.Places {
			if km := int(math.Round(distanceKM(a.Place.Lat, a.Place.Lon, p.Lat, p.Lon))); km < best.KM {
				best = related{Story: st, Place: p.Name, KM: km}
			}
		}
		if best.Story == nil {
			continue
		}
		if canLink {
			best.Link = "/act/link-source?" + url.Values{"story": {st.ID}, "allegation": {a.ID}}.Encode()
		}
		out = append(out, best)
	}
	slices.SortStableFunc(out, func(x, y related) int { return x.KM - y.KM })
	return out, nil
}

// distanceKM is the great-circle distance between two points.
func distanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const earth = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earth * math.Asin(math.Sqrt(h))
}

type searchData struct {
	Q, Type, From, To, Problem string
	Types                      []string
	Hits                       []truce.SearchHit
}

// Link is where a found record is read.
func (searchData) Link(typ, id string) string {
	switch typ {
	case rules.TypeAllegation:
		return "/allegations/" + url.PathEscape(id)
	case rules.TypeStory:
		return "/stories/" + url.PathEscape(id)
	case rules.TypeSource:
		return "/sources/" + url.PathEscape(id)
	}
	return "/records/" + url.PathEscape(typ) + "/" + url.PathEscape(id)
}

// search finds records by the words people wrote in them, as the reader
// may see them; a bad query is said on the page, not as an error page.
func (s *Server) search(w http.ResponseWriter, r *http.Request, v *view) error {
	d := &searchData{Q: r.FormValue("q"), Type: r.FormValue("type"), From: r.FormValue("from"), To: r.FormValue("to"), Types: read.Searchable}
	if d.Q != "" {
		q := truce.Search{Text: d.Q, Type: d.Type, Limit: 50}
		var err error
		q.From, q.To, err = api.Span(r) // as the API reads them
		if err == nil {
			d.Hits, err = s.cfg.Read.Search(r.Context(), v.who, q)
		}
		var fe *truce.Error
		switch {
		case errors.As(err, &fe) && (fe.Code == truce.CodeInvalid || fe.Code == truce.CodeBadTime):
			d.Problem = fe.Error()
		case err != nil:
			return err
		}
	}
	s.render(w, v, "search", v.L.T("nav.search"), d)
	return nil
}
