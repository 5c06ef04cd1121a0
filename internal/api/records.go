package api

import (
	"cmp"
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/submit"
	"github.com/truce-mvm/truce/internal/wire"
)

func (s *Server) postEntry(w http.ResponseWriter, r *http.Request) error { return s.post(w, r, "") }

// postAs returns the handler of a route that takes an envelope of one
// kind; a {id} in the route must be the record the entry acts on.
func postAs(kind string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error { return s.post(w, r, kind) }
}

// post reads an entry and submits it; kind, if set, is the only kind the
// route takes. The body is one of:
//
//	a DSSE envelope the author signed;
//	{"envelope": ..., "sealed": {"salt", "content"}}: the same, with the
//	    opening of the entry's sealed commitment;
//	{"kind": ..., "body": ..., "sealed": {"content"}}: a command the server
//	    signs with the caller's custodial key (kind from the route if it
//	    has one), sealing the content itself if given.
func (s *Server) post(w http.ResponseWriter, r *http.Request, kind string) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return truce.Errorf(truce.CodeMediaType, "send entries as application/json")
		}
	}
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	// One strict pass decodes any of the three forms.
	var req struct {
		PayloadType string           `json:"payloadType"`
		Payload     string           `json:"payload"`
		Signatures  []dsse.Signature `json:"signatures"`
		Envelope    *dsse.Envelope   `json:"envelope"`
		Kind        string           `json:"kind"`
		Body        json.RawMessage  `json:"body"`
		Sealed      *truce.Opening   `json:"sealed"`  // opens the body's sealed field
		Opening     *truce.Opening   `json:"opening"` // opens a sealed body
	}
	if err := strictJSON(raw, &req); err != nil {
		return err
	}
	v := gate.Viewer(r)
	rt := submit.Route{Kind: kind, Subject: r.PathValue("id")}
	bare := req.PayloadType != "" || req.Payload != "" || req.Signatures != nil
	var ack *truce.Ack
	switch {
	case bare && req.Envelope == nil && req.Kind == "" && req.Body == nil && req.Sealed == nil && req.Opening == nil:
		ack, err = s.cfg.Submit.Signed(r.Context(), v, rt, &dsse.Envelope{PayloadType: req.PayloadType, Payload: req.Payload, Signatures: req.Signatures}, nil, nil)
	case !bare && req.Envelope != nil && req.Kind == "" && req.Body == nil:
		ack, err = s.cfg.Submit.Signed(r.Context(), v, rt, req.Envelope, req.Opening, req.Sealed)
	case !bare && req.Envelope == nil && req.Body != nil && req.Opening == nil:
		rt.Kind = cmp.Or(kind, req.Kind)
		if rt.Kind == "" || (kind != "" && req.Kind != "" && req.Kind != kind) {
			return truce.FieldErrorf(truce.CodeInvalid, "kind", "name the entry kind this route takes (%s)", cmp.Or(kind, "any"))
		}
		ack, err = s.cfg.Submit.Custodial(r.Context(), v, rt, req.Body, req.Sealed)
	default:
		return truce.Errorf(truce.CodeInvalid, "send a signed envelope, {envelope, opening, sealed}, or {kind, body, sealed} to sign with your custodial key")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ack)
	return nil
}

// maxLimit bounds a page of the API's lists (a fixed contract: 1 to 200).
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
// Span reads from and to, the end of a day for a date to, and
// refuses to before from.
func Span(r *http.Request) (from, to int64, err error) {
	if from, err = timeParam(r, "from", false); err != nil {
		return 0, 0, err
	}
	if to, err = timeParam(r, "to", true); err != nil {
		return 0, 0, err
	}
	if from != 0 && to != 0 && from > to {
		return 0, 0, truce.FieldErrorf(truce.CodeBadTime, "to", "is before from")
	}
	return from, to, nil
}

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
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
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
	rules.TypeSource:      {typ: rules.TypeSource, kind: "outlet", member: "ingested_by", parent: "story", timed: true},
	rules.TypeStory:       {typ: rules.TypeStory, timed: true},
	rules.TypeOutlet:      {typ: rules.TypeOutlet, kind: "reliability"},
	rules.TypeReport:      {typ: rules.TypeReport, member: "published_by", timed: true},
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
		if err := l.filters(r, &q); err != nil {
			return err
		}
		return s.writeList(w, r, q)
	}
}

// filters reads the listing's filter parameters into q.
func (l listing) filters(r *http.Request, q *truce.Query) error {
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
	var err error
	if l.timed {
		if q.From, q.To, err = Span(r); err != nil {
			return err
		}
	}
	if l.placed {
		if q.BBox, err = bboxParam(v.Get("bbox")); err != nil {
			return err
		}
	}
	return nil
}

// getOf returns the handler that shows one record with its history.
func getOf(typ string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		rec, hist, err := s.cfg.Read.Get(r.Context(), gate.Viewer(r), typ, id)
		if err != nil {
			return err
		}
		return s.writeRecord(w, r, rec, hist, map[string]any{"receipt": wire.ReceiptPath(typ, id)})
	}
}

// lookupSource finds a source by its raw page's hash or its address, so
// that a remote ingester reads nothing twice.
func (s *Server) lookupSource(w http.ResponseWriter, r *http.Request) error {
	sha, addr := r.URL.Query().Get("sha256"), r.URL.Query().Get("url")
	field, value := "sha256", sha
	switch {
	case (sha == "") == (addr == ""):
		return truce.FieldErrorf(truce.CodeInvalid, "sha256", "give either sha256 or url")
	case addr != "":
		field, value = "url", addr
	}
	v := gate.Viewer(r)
	rec, err := s.cfg.Read.FindSource(r.Context(), v, field, value)
	if err != nil {
		return err
	}
	_, hist, err := s.cfg.Read.Get(r.Context(), v, rec.Type, rec.ID)
	if err != nil {
		return err
	}
	return s.writeRecord(w, r, rec, hist, map[string]any{"receipt": wire.ReceiptPath(rec.Type, rec.ID)})
}

func (s *Server) writeList(w http.ResponseWriter, r *http.Request, q truce.Query) error {
	v := gate.Viewer(r)
	recs, err := s.cfg.Read.List(r.Context(), v, q)
	if err != nil {
		return err
	}
	out := wire.List{Items: make([]json.RawMessage, len(recs))}
	for i, rec := range recs {
		if out.Items[i], err = s.cfg.Read.Doc(r.Context(), v, rec); err != nil {
			return err
		}
	}
	if len(recs) == q.Limit && recs[len(recs)-1].Created > 0 {
		out.Next = strconv.FormatInt(recs[len(recs)-1].Created, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writeRecord writes one record under its type's name, with its history.
func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, rec *truce.Record, hist []truce.HistoryItem, extra map[string]any) error {
	v := gate.Viewer(r)
	doc, err := s.cfg.Read.Doc(r.Context(), v, *rec)
	if err != nil {
		return err
	}
	out := map[string]any{rec.Type: doc, "history": hist, "visibility": rec.Visibility}
	for k, x := range extra {
		out[k] = x
	}
	if rec.Type == rules.TypeSource {
		// The text is in the log, not in the record.
		if out["text"], err = s.cfg.Read.SourceText(r.Context(), v, rec); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request) error {
	v, id := gate.Viewer(r), r.PathValue("id")
	rec, hist, err := s.cfg.Read.Get(r.Context(), v, rules.TypeMember, id)
	if err != nil {
		return err
	}
	seq, err := s.cfg.Read.Seq(v, id)
	if err != nil {
		return err
	}
	return s.writeRecord(w, r, rec, hist, map[string]any{"seq": seq})
}

func (s *Server) getAgreement(w http.ResponseWriter, r *http.Request) error {
	rec, hist, err := s.cfg.Read.Get(r.Context(), gate.Viewer(r), rules.TypeAgreement, "current")
	if err != nil {
		return err
	}
	return s.writeRecord(w, r, rec, hist, nil)
}

func (s *Server) overdue(w http.ResponseWriter, r *http.Request) error {
	out, err := s.cfg.Read.Overdue(gate.Viewer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) openings(w http.ResponseWriter, r *http.Request) error {
	var from int64
	if f := r.URL.Query().Get("from"); f != "" {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return truce.FieldErrorf(truce.CodeInvalid, "from", "must be an entry index")
		}
		from = n
	}
	out, err := s.cfg.Read.Openings(r.Context(), gate.Viewer(r), from)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	q := truce.Search{Text: r.URL.Query().Get("q"), Type: r.URL.Query().Get("type"), Limit: 50}
	var err error
	if q.From, q.To, err = Span(r); err != nil {
		return err
	}
	hits, err := s.cfg.Read.Search(r.Context(), gate.Viewer(r), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": hits})
	return nil
}

func (s *Server) discrepancies(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	items, err := s.cfg.Read.Discrepancies(r.Context(), gate.Viewer(r), q.Get("story"), q.Get("kind"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}
