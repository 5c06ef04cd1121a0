package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
)

func (s *Server) postEntry(w http.ResponseWriter, r *http.Request) error {
	return s.post(w, r, "")
}

// postAs returns the handler of a route that takes an envelope of one
// kind; a {id} in the route must be the record the entry acts on.
func postAs(kind string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error { return s.post(w, r, kind) }
}

// post reads a signed envelope and submits it; kind, if set, is the only
// kind the route takes.
func (s *Server) post(w http.ResponseWriter, r *http.Request, kind string) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return truce.Errorf(truce.CodeMediaType, "send the envelope as application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxEntryBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return truce.Errorf(truce.CodeTooLarge, "the request body is over %d bytes", s.cfg.MaxEntryBytes)
	}
	if err != nil {
		return truce.Errorf(truce.CodeInvalid, "reading the request body: %v", err)
	}
	env, err := entry.ParseEnvelope(body)
	if err != nil {
		return err
	}
	if kind != "" {
		e, err := entry.Open(env)
		if err != nil {
			return err
		}
		if e.Payload.Kind != kind {
			return truce.FieldErrorf(truce.CodeInvalid, "payload.kind", "this route takes %s entries, not %s", kind, e.Payload.Kind)
		}
		cmd, err := rules.Decode(e)
		if err != nil {
			return err
		}
		if id := r.PathValue("id"); id != "" && rules.Subject(cmd) != id {
			return truce.FieldErrorf(truce.CodeInvalid, "body", "the entry is about %q, the route about %q", rules.Subject(cmd), id)
		}
	}
	ack, err := s.cfg.Seq.Submit(r.Context(), env, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ack)
	return nil
}

// List is a page of records.
type List struct {
	Items []json.RawMessage `json:"items"`
	Next  string            `json:"next,omitempty"`
}

const maxLimit = 200

// query reads the paging parameters common to every list.
func pageQuery(r *http.Request, typ string) (truce.Query, error) {
	v := r.URL.Query()
	q := truce.Query{Type: typ, Limit: 50}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLimit {
			return q, truce.FieldErrorf(truce.CodeInvalid, "limit", "must be between 1 and %d", maxLimit)
		}
		q.Limit = n
	}
	if c := v.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 1 {
			return q, truce.FieldErrorf(truce.CodeInvalid, "cursor", "is not a cursor this server gave")
		}
		q.After = n
	}
	return q, nil
}

var partyParam = func(field, v string) error {
	if v != "" && (len(v) < 2 || len(v) > 8 || strings.ToUpper(v) != v) {
		return truce.FieldErrorf(truce.CodeInvalid, field, "must be a party code such as PK")
	}
	return nil
}

// timeParam reads an RFC 3339 time or a date; a date means the start of the
// day, or its end when end is set.
func timeParam(r *http.Request, name string, end bool) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.Unix(), nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return 0, truce.FieldErrorf(truce.CodeBadTime, name, "must be RFC 3339 (2026-10-20T06:00:00Z) or a date (2026-10-20)")
	}
	if end {
		d = d.Add(24*time.Hour - time.Second)
	}
	return d.Unix(), nil
}

func bboxParam(v string) (*[4]float64, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	var b [4]float64
	bad := truce.FieldErrorf(truce.CodeBadLocation, "bbox", "must be minLon,minLat,maxLon,maxLat on the globe")
	if len(parts) != 4 {
		return nil, bad
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, bad
		}
		b[i] = f
	}
	if b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 || b[0] > b[2] || b[1] > b[3] {
		return nil, bad
	}
	return &b, nil
}

// listing says which query parameters filter a record type's list, and
// which slot of truce.Record each reads.
type listing struct {
	typ                  string
	party, against, kind string // parameter names for the Party, Against and Category slots
	member, parent       string // and for Member and Parent
	status               string // and for Status ("status" if empty)
	timed, placed        bool   // from/to and bbox apply
}

var listings = map[string]listing{
	rules.TypeAllegation:  {typ: rules.TypeAllegation, party: "filer", against: "accused", kind: "category", member: "filed_by", parent: "case", timed: true, placed: true},
	rules.TypeCase:        {typ: rules.TypeCase, party: "filer", against: "accused", member: "opened_by", parent: "allegation", timed: true},
	rules.TypeTask:        {typ: rules.TypeTask, kind: "type", member: "assignee", parent: "case", timed: true},
	rules.TypeEvidence:    {typ: rules.TypeEvidence, kind: "media_type", member: "registered_by", parent: "case", timed: true},
	rules.TypeFinding:     {typ: rules.TypeFinding, against: "responsible", kind: "determination", member: "proposed_by", parent: "case", timed: true},
	rules.TypeConsequence: {typ: rules.TypeConsequence, against: "target", kind: "action", parent: "finding", timed: true},
	rules.TypeCommitment:  {typ: rules.TypeCommitment, party: "owner", parent: "round", timed: true},
	rules.TypeAmendment:   {typ: rules.TypeAmendment, member: "proposed_by"},
	rules.TypeMember:      {typ: rules.TypeMember, party: "party", status: "role"},
}

// params documents a listing's filters for the OpenAPI document.
func (l listing) params() []param {
	var out []param
	if l.party != "" || l.against != "" {
		out = append(out, param{"party", "query", "string", "party code: in any role"})
	}
	for _, p := range []struct{ name, desc string }{
		{l.party, "party code"}, {l.against, "party code"}, {l.kind, "kind within the type"},
		{l.member, "member id"}, {l.parent, "id of the record it belongs to"},
	} {
		if p.name != "" && p.name != "party" {
			out = append(out, param{p.name, "query", "string", p.desc})
		}
	}
	out = append(out, param{cmp.Or(l.status, "status"), "query", "string", "status"})
	if l.timed {
		out = append(out, param{"from", "query", "string", "on or after (RFC 3339 or YYYY-MM-DD)"}, param{"to", "query", "string", "on or before"})
	}
	if l.placed {
		out = append(out, param{"bbox", "query", "string", "area: minLon,minLat,maxLon,maxLat"})
	}
	return append(out, listParams...)
}

// listOf returns the list handler of a record type.
func listOf(typ string) func(*Server, http.ResponseWriter, *http.Request) error {
	l := listings[typ]
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		q, err := pageQuery(r, l.typ)
		if err != nil {
			return err
		}
		v := r.URL.Query()
		get := func(name string) string {
			if name == "" {
				return ""
			}
			return v.Get(name)
		}
		q.Filer, q.Against, q.Category, q.Member, q.Parent, q.Status = get(l.party), get(l.against), get(l.kind), get(l.member), get(l.parent), v.Get(cmp.Or(l.status, "status"))
		if l.party != "party" {
			q.Party = v.Get("party")
		} else {
			q.Filer = v.Get("party")
		}
		for _, p := range []struct{ name, v string }{{"party", q.Party}, {l.party, q.Filer}, {l.against, q.Against}} {
			if err := partyParam(p.name, p.v); err != nil {
				return err
			}
		}
		if l.typ == rules.TypeAllegation && q.Category != "" {
			if _, ok := truce.CategoryBySlug(q.Category); !ok {
				return truce.FieldErrorf(truce.CodeInvalid, "category", "unknown event category %q", q.Category)
			}
		}
		if l.timed {
			if q.From, err = timeParam(r, "from", false); err != nil {
				return err
			}
			if q.To, err = timeParam(r, "to", true); err != nil {
				return err
			}
			if q.From != 0 && q.To != 0 && q.From > q.To {
				return truce.FieldErrorf(truce.CodeBadTime, "to", "is before from")
			}
		}
		if l.placed {
			if q.BBox, err = bboxParam(v.Get("bbox")); err != nil {
				return err
			}
		}
		return s.writeList(w, r, q)
	}
}

// getOf returns the handler that shows one record with its history.
func getOf(typ string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		return s.writeRecord(w, r, typ, r.PathValue("id"), nil)
	}
}

func (s *Server) writeList(w http.ResponseWriter, r *http.Request, q truce.Query) error {
	recs, err := s.cfg.Store.Records(r.Context(), q)
	if err != nil {
		return err
	}
	out := List{Items: make([]json.RawMessage, len(recs))}
	for i, rec := range recs {
		out.Items[i] = rec.Doc
	}
	if len(recs) == q.Limit && recs[len(recs)-1].Created > 0 {
		out.Next = strconv.FormatInt(recs[len(recs)-1].Created, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writeRecord writes one record under its type's name, with its history.
func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, typ, id string, extra map[string]any) error {
	rec, err := s.cfg.Store.Record(r.Context(), typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return truce.Errorf(truce.CodeNotFound, "no %s %q", typ, id)
	}
	if err != nil {
		return err
	}
	hist, err := s.cfg.Store.History(r.Context(), typ, id)
	if err != nil {
		return err
	}
	out := map[string]any{typ: json.RawMessage(rec.Doc), "history": hist}
	for k, v := range extra {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var seq uint64
	s.cfg.Seq.View(func(st *rules.State) { seq = st.Seq(id) })
	return s.writeRecord(w, r, rules.TypeMember, id, map[string]any{"seq": seq})
}

func (s *Server) getAgreement(w http.ResponseWriter, r *http.Request) error {
	return s.writeRecord(w, r, rules.TypeAgreement, "current", nil)
}

// Overdue is the overdue set: everything past its deadline in log time.
type Overdue struct {
	Items []rules.Overdue `json:"items"`
}

func (s *Server) overdue(w http.ResponseWriter, r *http.Request) error {
	var out Overdue
	s.cfg.Seq.View(func(st *rules.State) { out.Items = st.Overdue() })
	if out.Items == nil {
		out.Items = []rules.Overdue{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
