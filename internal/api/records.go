package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
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
	raw, err := s.readBody(w, r)
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
		Sealed      *truce.Opening   `json:"sealed"`
	}
	if err := strictJSON(raw, &req); err != nil {
		return err
	}
	v := viewerOf(r)
	bare := req.PayloadType != "" || req.Payload != "" || req.Signatures != nil
	var ack *sequencer.Ack
	switch {
	case bare && req.Envelope == nil && req.Kind == "" && req.Body == nil && req.Sealed == nil:
		ack, err = s.postSigned(r, v, kind, &dsse.Envelope{PayloadType: req.PayloadType, Payload: req.Payload, Signatures: req.Signatures}, nil)
	case !bare && req.Envelope != nil && req.Kind == "" && req.Body == nil:
		ack, err = s.postSigned(r, v, kind, req.Envelope, req.Sealed)
	case !bare && req.Envelope == nil && req.Body != nil:
		k := cmp.Or(kind, req.Kind)
		if k == "" || (kind != "" && req.Kind != "" && req.Kind != kind) {
			return truce.FieldErrorf(truce.CodeInvalid, "kind", "name the entry kind this route takes (%s)", cmp.Or(kind, "any"))
		}
		ack, err = s.postCustodial(r, v, k, req.Body, req.Sealed)
	default:
		return truce.Errorf(truce.CodeInvalid, "send a signed envelope, {envelope, sealed}, or {kind, body} to sign with your custodial key")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ack)
	return nil
}

// postSigned submits an envelope the author signed.
func (s *Server) postSigned(r *http.Request, v policy.Viewer, kind string, env *dsse.Envelope, opening *truce.Opening) (*sequencer.Ack, error) {
	e, err := entry.Open(env)
	if err != nil {
		return nil, err
	}
	// One submits one's own entries; an administrator may relay others'.
	if e.Payload.Author != v.Member.ID && v.Member.Role != truce.RoleAdmin {
		return nil, truce.Errorf(truce.CodeForbidden, "the entry is by %s; submit your own entries", e.Payload.Author)
	}
	cmd, sealed, err := s.checkRoute(r, kind, e, opening)
	if err != nil {
		return nil, err
	}
	return s.cfg.Seq.SubmitCommand(r.Context(), cmd, sealed)
}

// CustodialKey returns the active key the server holds for a member, to
// sign with on its behalf; a member without one is refused (forbidden).
// The pages share it with the API.
func (s *Server) CustodialKey(ctx context.Context, member string) (*entry.PrivateKey, error) {
	var keyID string
	var ok bool
	s.cfg.Seq.View(func(st *rules.State) { keyID, ok = st.CustodialKey(member) })
	if !ok || s.cfg.Vault == nil {
		return nil, truce.Errorf(truce.CodeForbidden, "%s has no custodial key: sign entries with your own key", member)
	}
	return s.cfg.Vault.Key(ctx, keyID)
}

// postCustodial signs body with the caller's custodial key and submits it.
func (s *Server) postCustodial(r *http.Request, v policy.Viewer, kind string, body json.RawMessage, opening *truce.Opening) (*sequencer.Ack, error) {
	key, err := s.CustodialKey(r.Context(), v.Member.ID)
	if err != nil {
		return nil, err
	}
	if opening != nil {
		// The server seals the content: a fresh salt, and the commitment
		// put into the body before it is signed.
		if opening.Salt == "" {
			salt := make([]byte, 32)
			rand.Read(salt)
			opening.Salt = hex.EncodeToString(salt)
		}
		salt, err := hex.DecodeString(opening.Salt)
		if err != nil {
			return nil, truce.FieldErrorf(truce.CodeInvalid, "sealed.salt", "must be hex")
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
			return nil, truce.FieldErrorf(truce.CodeInvalid, "body", "must be a JSON object")
		}
		fields["sealed"], _ = json.Marshal(truce.Sealed{Commitment: truce.Commit(salt, opening.Content)})
		body, _ = json.Marshal(fields)
	}
	e := &entry.Entry{Payload: entry.Payload{Kind: kind, Author: v.Member.ID, Body: body}}
	_, sealed, err := s.checkRoute(r, kind, e, opening)
	if err != nil {
		return nil, err
	}
	return s.cfg.Seq.SubmitFor(r.Context(), v.Member.ID, key, kind, body, sealed)
}

// checkRoute decodes an entry's body and checks it against the route — its
// kind, and the record the route names — and the opening of its sealed
// commitment, if it has one.
func (s *Server) checkRoute(r *http.Request, kind string, e *entry.Entry, opening *truce.Opening) (*rules.Command, *store.Sealed, error) {
	if kind != "" && e.Payload.Kind != kind {
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "payload.kind", "this route takes %s entries, not %s", kind, e.Payload.Kind)
	}
	cmd, err := rules.Decode(e)
	if err != nil {
		return nil, nil, err
	}
	if id := r.PathValue("id"); id != "" && rules.Subject(cmd) != id {
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "body", "the entry is about %q, the route about %q", rules.Subject(cmd), id)
	}
	sealed, err := sealedFor(cmd, opening)
	if err != nil {
		return nil, nil, err
	}
	return cmd, sealed, nil
}

// sealedFor checks that an entry with a sealed commitment comes with its
// opening, and that the opening opens it.
func sealedFor(cmd *rules.Command, o *truce.Opening) (*store.Sealed, error) {
	c := rules.SealedOf(cmd)
	switch {
	case c == nil && o == nil:
		return nil, nil
	case c == nil:
		return nil, truce.FieldErrorf(truce.CodeInvalid, "sealed", "the entry has no sealed commitment to open")
	case o == nil:
		return nil, truce.FieldErrorf(truce.CodeInvalid, "sealed", "send the sealed content with the entry, so the mechanism can read it")
	}
	if err := o.Opens(*c); err != nil {
		return nil, err
	}
	salt, _ := hex.DecodeString(o.Salt)
	return &store.Sealed{Commitment: c.Commitment, Salt: salt, Content: o.Content}, nil
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
	rules.TypeSource:      {typ: rules.TypeSource, kind: "outlet", member: "ingested_by", parent: "story", timed: true},
	rules.TypeStory:       {typ: rules.TypeStory, timed: true},
	rules.TypeOutlet:      {typ: rules.TypeOutlet, kind: "reliability"},
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
	return nil
}

// getOf returns the handler that shows one record with its history.
func getOf(typ string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		return s.writeRecord(w, r, typ, id, map[string]any{"receipt": ReceiptPath(typ, id)})
	}
}

// SourceText reads an article's text from the entry that ingested it, at
// index. The pages share it.
func (s *Server) SourceText(ctx context.Context, index int64) (string, error) {
	leaf, err := tlog.Leaf(ctx, s.cfg.Seq.Tiles(), index)
	if err != nil {
		return "", err
	}
	_, e, err := entry.DecodeLeaf(leaf, index)
	if err != nil {
		return "", err
	}
	var body truce.SourceIngestion
	if err := json.Unmarshal(e.Payload.Body, &body); err != nil {
		return "", err
	}
	if e.Payload.Kind != rules.KindSourceIngested {
		return "", fmt.Errorf("entry %d is a %s, not a source", index, e.Payload.Kind)
	}
	return body.Text, nil
}

// lookupSource finds a source by its raw page's hash or its address, so
// that a remote ingester reads nothing twice.
func (s *Server) lookupSource(w http.ResponseWriter, r *http.Request) error {
	sha, addr := r.URL.Query().Get("sha256"), r.URL.Query().Get("url")
	if (sha == "") == (addr == "") {
		return truce.FieldErrorf(truce.CodeInvalid, "sha256", "give either sha256 or url")
	}
	var id string
	var ok bool
	s.cfg.Seq.View(func(st *rules.State) {
		if sha != "" {
			id, ok = st.SourceByHash(sha)
		} else {
			id, ok = st.SourceByURL(addr)
		}
	})
	if !ok {
		return truce.Errorf(truce.CodeNotFound, "no source from that page")
	}
	return s.writeRecord(w, r, rules.TypeSource, id, map[string]any{"receipt": ReceiptPath(rules.TypeSource, id)})
}

func (s *Server) writeList(w http.ResponseWriter, r *http.Request, q truce.Query) error {
	q.Access = policy.AccessOf(viewerOf(r))
	recs, err := s.cfg.Store.Records(r.Context(), q)
	if err != nil {
		return err
	}
	out := List{Items: make([]json.RawMessage, len(recs))}
	for i, rec := range recs {
		if out.Items[i], err = s.reveal(r, rec); err != nil {
			return err
		}
	}
	if len(recs) == q.Limit && recs[len(recs)-1].Created > 0 {
		out.Next = strconv.FormatInt(recs[len(recs)-1].Created, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// VisibleRecord reads a record that a reader with access may see, with
// its history; one it may not see is not found, as one that does not
// exist. The pages share it with the API.
func (s *Server) VisibleRecord(ctx context.Context, access *truce.Access, typ, id string) (*truce.Record, []truce.HistoryItem, error) {
	rec, err := s.cfg.Store.Record(ctx, typ, id)
	if err == nil && !access.Sees(rec.Visibility, rec.Owner) {
		err = store.ErrNotFound // what one may not see, one is not told exists
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, truce.Errorf(truce.CodeNotFound, "no %s %q", typ, id)
	}
	if err != nil {
		return nil, nil, err
	}
	hist, err := s.cfg.Store.History(ctx, typ, id)
	return rec, hist, err
}

// ReceiptPath is where a record's receipt is served.
func ReceiptPath(typ, id string) string {
	return ListPath(typ) + "/" + url.PathEscape(id) + "/receipt"
}

// writeRecord writes one record under its type's name, with its history.
func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, typ, id string, extra map[string]any) error {
	rec, hist, err := s.VisibleRecord(r.Context(), policy.AccessOf(viewerOf(r)), typ, id)
	if err != nil {
		return err
	}
	doc, err := s.reveal(r, *rec)
	if err != nil {
		return err
	}
	out := map[string]any{typ: doc, "history": hist}
	for k, v := range extra {
		out[k] = v
	}
	if typ == rules.TypeSource {
		// The text is in the log, not in the record.
		if out["text"], err = s.SourceText(r.Context(), rec.Created); err != nil {
			return err
		}
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

// Overdue is the overdue set: everything past its deadline in log time,
// as the first AsOf entries of the log leave it.
type Overdue struct {
	AsOf  int64           `json:"as_of"`
	Items []rules.Overdue `json:"items"`
}

func (s *Server) overdue(w http.ResponseWriter, r *http.Request) error {
	var out Overdue
	access := policy.AccessOf(viewerOf(r))
	s.cfg.Seq.View(func(st *rules.State) { out.AsOf, out.Items = st.Size, st.OverdueFor(access) })
	if out.Items == nil {
		out.Items = []rules.Overdue{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// reveal returns a record's document, with the content of its sealed
// commitment as "sealed_content" for readers who may see it: the mechanism, and
// the party that owns the record.
func (s *Server) reveal(r *http.Request, rec truce.Record) (json.RawMessage, error) {
	var probe struct {
		Sealed *truce.Sealed `json:"sealed"`
	}
	if !bytes.Contains(rec.Doc, []byte(`"sealed"`)) || json.Unmarshal(rec.Doc, &probe) != nil || probe.Sealed == nil ||
		!policy.AccessOf(viewerOf(r)).Sees(truce.Internal, rec.Owner) {
		return rec.Doc, nil
	}
	o, err := s.cfg.Store.Opening(r.Context(), probe.Sealed.Commitment)
	if errors.Is(err, store.ErrNotFound) {
		return rec.Doc, nil
	}
	if err != nil {
		return nil, err
	}
	doc := bytes.Clone(rec.Doc[:len(rec.Doc)-1])
	doc = append(append(append(doc, `,"sealed_content":`...), o.Content...), '}')
	return doc, nil
}

// strictJSON decodes b into v, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil || d.More() {
		return truce.Errorf(truce.CodeInvalid, "the request body is not the JSON expected: %v", err)
	}
	return nil
}

// Discrepancy is one disagreement among a story's sources, as listed.
type Discrepancy struct {
	Story string `json:"story"`
	truce.Discrepancy
}

func (s *Server) discrepancies(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	items, err := Discrepancies(r.Context(), s.cfg.Store, policy.AccessOf(viewerOf(r)), q.Get("story"), q.Get("kind"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// Discrepancies lists the disagreements within the stories a reader with
// access may see (one story, if named; of one kind, if named), newest
// story first. The CLI reads a local instance through it too.
func Discrepancies(ctx context.Context, st store.Store, access *truce.Access, story, kind string) ([]Discrepancy, error) {
	if kind != "" && !slices.Contains(truce.DiscrepancyKinds, kind) {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "kind", "must be one of %v", truce.DiscrepancyKinds)
	}
	var recs []truce.Record
	if story != "" {
		rec, err := st.Record(ctx, rules.TypeStory, story)
		if errors.Is(err, store.ErrNotFound) || err == nil && !access.Sees(rec.Visibility, rec.Owner) {
			return nil, truce.Errorf(truce.CodeNotFound, "no story %q", story)
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, *rec)
	} else {
		q := truce.Query{Type: rules.TypeStory, Status: "disputed", Access: access, Limit: maxLimit}
		for {
			page, err := st.Records(ctx, q)
			if err != nil {
				return nil, err
			}
			recs = append(recs, page...)
			if len(page) < q.Limit {
				break
			}
			q.After = page[len(page)-1].Created
		}
	}
	items := []Discrepancy{}
	for _, rec := range recs {
		var s truce.Story
		if err := json.Unmarshal(rec.Doc, &s); err != nil {
			return nil, err
		}
		for _, d := range s.Discrepancies {
			if kind == "" || d.Kind == kind {
				items = append(items, Discrepancy{s.ID, d})
			}
		}
	}
	return items, nil
}
