package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/gazetteer"
	"github.com/truce-mvm/truce/internal/rules"
)

type storiesData struct {
	Items    []*truce.Story
	Disputed bool
	Next     string
}

// stories lists the open-source stories, newest first; ?disputed=1 keeps
// those whose sources disagree.
func (s *Server) stories(w http.ResponseWriter, r *http.Request, v *view) error {
	q := truce.Query{Type: rules.TypeStory, Limit: 50, Access: v.Access}
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
	rec, hist, err := s.cfg.API.VisibleRecord(r.Context(), v.Access, rules.TypeStory, id)
	if err != nil {
		return err
	}
	st, err := decode[truce.Story](rec.Doc)
	if err != nil {
		return err
	}
	d := &storyData{S: st, Outlets: map[string]string{}, Timeline: s.timeline(hist), Receipt: api.ReceiptPath(rules.TypeStory, id),
		Actions: offer(v, "story", id, "link-source"), Attribution: gazetteer.Attribution}
	s.cfg.Seq.View(func(state *rules.State) {
		for _, src := range st.Sources {
			if o, ok := state.Outlet(src.Outlet); ok {
				d.Outlets[src.Outlet] = o.Reliability
			}
		}
	})
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
	rec, hist, err := s.cfg.API.VisibleRecord(r.Context(), v.Access, rules.TypeSource, id)
	if err != nil {
		return err
	}
	src, err := decode[truce.Report](rec.Doc)
	if err != nil {
		return err
	}
	d := &sourceData{S: src, Timeline: s.timeline(hist), Receipt: api.ReceiptPath(rules.TypeSource, id),
		Actions: offer(v, "source", id, "link-source", "move-source"), Attribution: gazetteer.Attribution}
	if v.Access.Sees(truce.Internal, "") {
		d.Page = "/api/v1/blobs/" + src.SHA256
	}
	text, err := s.cfg.API.SourceText(r.Context(), rec.Created)
	if err != nil {
		return err
	}
	for _, p := range strings.Split(text, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			d.Paragraphs = append(d.Paragraphs, p)
		}
	}
	s.cfg.Seq.View(func(state *rules.State) {
		if o, ok := state.Outlet(src.Outlet); ok {
			d.Reliability = o.Reliability
		}
	})
	s.render(w, v, "source", src.Title, d)
	return nil
}
