package api

import (
	"bytes"
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/sitrep"
)

// situation answers the situation report of a period in the format
// asked, made of what the viewer may see.
func (s *Server) situation(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = sitrep.FormatJSON
	}
	if !slices.Contains(sitrep.Formats, format) {
		return truce.FieldErrorf(truce.CodeInvalid, "format", "must be one of %v", sitrep.Formats)
	}
	from, to, err := sitrep.ParsePeriod(q.Get("from"), q.Get("to"), time.Now())
	if err != nil {
		return err
	}
	title := cmp.Or(q.Get("title"), sitrep.DefaultTitle)
	if len([]rune(title)) > 200 {
		return truce.FieldErrorf(truce.CodeInvalid, "title", "is longer than 200 characters")
	}
	rep, err := s.cfg.Read.Situation(r.Context(), gate.Viewer(r), title, q.Get("audience"), from, to)
	if err != nil {
		return err
	}
	var b bytes.Buffer // whole before the status: a failed rendering is a 500, not half a file
	if err := rep.Render(&b, format); err != nil {
		return err
	}
	w.Header().Set("Content-Type", sitrep.ContentType(format))
	w.Header().Set("Cache-Control", "no-store")
	if format == sitrep.FormatPDF {
		w.Header().Set("Content-Disposition", `attachment; filename="situation.pdf"`)
	}
	_, err = w.Write(b.Bytes())
	return err
}
