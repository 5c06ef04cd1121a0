package web

import (
	"net/http"
	"net/url"

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
