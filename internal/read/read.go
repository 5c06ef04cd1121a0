// Package read is the read side: everything any surface shows a reader
// — records, their history, the overdue set, files, the log and its
// proofs — goes through a Service, which takes the reader (a
// policy.Viewer) on every call, checks the policy action for what is
// read, filters by the reader's access, and reads only what is durable:
// the store, where a batch is all there or not at all, and the
// sequencer's Snapshot of the last committed batch, never its working
// state. A reader whose access was not decided sees nothing.
package read

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/receipt"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
	"github.com/truce-mvm/truce/internal/witness"
)

// Config is what a Service reads.
type Config struct {
	Store store.Store
	Files blob.Store // nil: the server keeps no files
	Seq   *sequencer.Sequencer
	// Witnesses publishes cosigned checkpoints; nil for a log without
	// witnesses, whose checkpoints are published as soon as signed.
	Witnesses *witness.Publisher
	VKey      string
	Policy    policy.Options
}

// Service reads for readers.
type Service struct {
	cfg Config
	// reports bounds the situation reports made at once: each reads every
	// allegation a reader may see, and holds a store reader while it does.
	reports chan struct{}
}

// New returns a Service.
func New(cfg Config) *Service { return &Service{cfg: cfg, reports: make(chan struct{}, 2)} }

func (s *Service) check(v policy.Viewer, a policy.Action) error {
	return policy.Check(v, a, s.cfg.Policy)
}

// MaxList bounds one page of a list (the map shows up to this many
// incidents at once; the API asks for at most 200).
const MaxList = 1000

// List lists the records q selects that v may see, newest first.
func (s *Service) List(ctx context.Context, v policy.Viewer, q truce.Query) ([]truce.Record, error) {
	if err := s.check(v, ReadAction(q.Type)); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > MaxList {
		q.Limit = MaxList
	}
	q.Access = policy.AccessOf(v)
	return s.cfg.Store.Records(ctx, q)
}

// Count counts the records q selects that v may see.
func (s *Service) Count(ctx context.Context, v policy.Viewer, q truce.Query) (int, error) {
	if err := s.check(v, ReadAction(q.Type)); err != nil {
		return 0, err
	}
	q.Access = policy.AccessOf(v)
	return s.cfg.Store.Count(ctx, q)
}

// Searchable are the types of records Search finds.
var Searchable = store.Searchable

// Title is what a record is called in a list: its document's title, else
// the start of its text (as search shows it).
func Title(typ string, doc []byte) string {
	title, _, _ := store.SearchText(typ, doc)
	return title
}

// Search finds the records v may see by the words people wrote in them,
// newest first (store.Records.Search).
func (s *Service) Search(ctx context.Context, v policy.Viewer, q truce.Search) ([]truce.SearchHit, error) {
	if err := s.check(v, policy.ReadRecords); err != nil {
		return nil, err
	}
	if len(store.SearchWords(q.Text)) == 0 {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "q", "give a word to search for")
	}
	if len([]rune(q.Text)) > 200 {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "q", "is longer than 200 characters")
	}
	if q.Type != "" && !slices.Contains(store.Searchable, q.Type) {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "type", "must be one of %v", store.Searchable)
	}
	q.Access = policy.AccessOf(v)
	hits, err := s.cfg.Store.Search(ctx, q)
	if hits == nil {
		hits = []truce.SearchHit{}
	}
	return hits, err
}

// ReadAction is the action reading records of a type is: the API's routes
// to them name it too.
func ReadAction(typ string) policy.Action {
	switch typ {
	case rules.TypeMember:
		return policy.ReadMembers
	case rules.TypeReport: // published for anyone to check a report they were sent
		return policy.ReadPublished
	}
	return policy.ReadRecords
}

// Get reads a record v may see, with its history; one v may not see is
// not found, as one that does not exist.
func (s *Service) Get(ctx context.Context, v policy.Viewer, typ, id string) (*truce.Record, []truce.HistoryItem, error) {
	if err := s.check(v, ReadAction(typ)); err != nil {
		return nil, nil, err
	}
	rec, err := s.visible(ctx, v, typ, id)
	if err != nil {
		return nil, nil, err
	}
	hist, err := s.cfg.Store.History(ctx, typ, id)
	return rec, hist, err
}

// visible reads a record if v sees it.
func (s *Service) visible(ctx context.Context, v policy.Viewer, typ, id string) (*truce.Record, error) {
	rec, err := s.cfg.Store.Record(ctx, typ, id)
	if err == nil && !policy.AccessOf(v).Sees(rec.Visibility, rec.Owner) {
		err = store.ErrNotFound // what one may not see, one is not told exists
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, truce.Errorf(truce.CodeNotFound, "no %s %q", typ, id)
	}
	return rec, err
}

// Doc returns a record's document as v may read it: with the content of
// its sealed commitment as "sealed_content" if v may see that — the
// mechanism, and the party that owns the record.
func (s *Service) Doc(ctx context.Context, v policy.Viewer, rec truce.Record) (json.RawMessage, error) {
	access := policy.AccessOf(v)
	if !access.Sees(rec.Visibility, rec.Owner) {
		return nil, truce.Errorf(truce.CodeNotFound, "no %s %q", rec.Type, rec.ID)
	}
	var probe struct {
		Sealed *truce.Sealed `json:"sealed"`
	}
	if !bytes.Contains(rec.Doc, []byte(`"sealed"`)) || json.Unmarshal(rec.Doc, &probe) != nil || probe.Sealed == nil ||
		!access.Sees(truce.Internal, rec.Owner) {
		return rec.Doc, nil
	}
	o, err := s.cfg.Store.Opening(ctx, rec.Created, probe.Sealed.Commitment)
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

// openingsPage bounds a page of openings.
const openingsPage = 500

// Openings returns the openings of the log's commitments, from entry
// index from on, that v may read: those of the records v may see as they
// stand now (a finding in effect discloses how it was reached); a body's
// sealed field only to the mechanism and the party owning the record, as
// Doc shows it.
func (s *Service) Openings(ctx context.Context, v policy.Viewer, from int64) (*wire.Openings, error) {
	if err := s.check(v, policy.ReadRecords); err != nil {
		return nil, err
	}
	if from < 0 {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "from", "must be an entry index")
	}
	access := policy.AccessOf(v)
	out := &wire.Openings{Items: []wire.Opening{}}
	err := s.cfg.Store.EachSealed(ctx, from, func(x store.Sealed) error {
		if len(out.Items) >= openingsPage && x.Index != out.Items[len(out.Items)-1].Index {
			out.Next = x.Index
			return errPageFull
		}
		if !access.Sees(x.Visibility, x.Owner) || !x.Body && !access.Sees(truce.Internal, x.Owner) {
			return nil
		}
		o := x.Opening()
		out.Items = append(out.Items, wire.Opening{Index: x.Index, Commitment: x.Commitment, Body: x.Body, Salt: o.Salt, Content: o.Content})
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, err
	}
	return out, nil
}

var errPageFull = errors.New("page full")

// Seq is the last seq of a member's entries in the committed log, which
// the member's next entry must exceed.
func (s *Service) Seq(v policy.Viewer, member string) (uint64, error) {
	if err := s.check(v, policy.ReadMembers); err != nil {
		return 0, err
	}
	return s.cfg.Seq.Snapshot().Seq(member), nil
}

// Overdue is the overdue set as the committed log leaves it, within what
// v may see.
func (s *Service) Overdue(v policy.Viewer) (*wire.Overdue, error) {
	if err := s.check(v, policy.ReadOverdue); err != nil {
		return nil, err
	}
	snap := s.cfg.Seq.Snapshot()
	return &wire.Overdue{AsOf: snap.Size, Items: snap.OverdueFor(policy.AccessOf(v))}, nil
}

// Agreement is the agreement in force.
func (s *Service) Agreement(ctx context.Context, v policy.Viewer) (*truce.Agreement, error) {
	rec, _, err := s.Get(ctx, v, rules.TypeAgreement, "current")
	if err != nil {
		return nil, err
	}
	var ag truce.Agreement
	return &ag, json.Unmarshal(rec.Doc, &ag)
}

// FindSource finds the source ingested from a raw page (field "sha256")
// or the latest from an address ("url").
func (s *Service) FindSource(ctx context.Context, v policy.Viewer, field, value string) (*truce.Record, error) {
	if err := s.check(v, policy.ReadRecords); err != nil {
		return nil, err
	}
	rec, err := s.cfg.Store.Find(ctx, rules.TypeSource, field, value)
	if err == nil && !policy.AccessOf(v).Sees(rec.Visibility, rec.Owner) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, truce.Errorf(truce.CodeNotFound, "no source from that page")
	}
	return rec, err
}

// SourceText reads an article's text from the entry that ingested it
// (the record keeps everything but the text).
func (s *Service) SourceText(ctx context.Context, v policy.Viewer, rec *truce.Record) (string, error) {
	if rec.Type != rules.TypeSource || !policy.AccessOf(v).Sees(rec.Visibility, rec.Owner) {
		return "", truce.Errorf(truce.CodeNotFound, "no source %q", rec.ID)
	}
	leaf, err := tlog.Leaf(ctx, s.cfg.Seq.Tiles(), rec.Created)
	if err != nil {
		return "", err
	}
	_, e, err := entry.DecodeLeaf(leaf, rec.Created)
	if err != nil {
		return "", err
	}
	if e.Payload.Kind != rules.KindSourceIngested {
		return "", fmt.Errorf("entry %d is a %s, not a source", rec.Created, e.Payload.Kind)
	}
	var body truce.SourceIngestion
	if err := json.Unmarshal(e.Payload.Body, &body); err != nil {
		return "", err
	}
	return body.Text, nil
}

// Discrepancy is one disagreement among a story's sources, as listed.
type Discrepancy struct {
	Story string `json:"story"`
	truce.Discrepancy
}

// Discrepancies lists the disagreements within the stories v may see
// (one story, if named; of one kind, if named), newest story first.
func (s *Service) Discrepancies(ctx context.Context, v policy.Viewer, story, kind string) ([]Discrepancy, error) {
	if err := s.check(v, policy.ReadRecords); err != nil {
		return nil, err
	}
	return Discrepancies(ctx, s.cfg.Store, policy.AccessOf(v), story, kind)
}

// Discrepancies is Service.Discrepancies over a store, for a reader with
// access — the operator's CLI reading its own database among them.
func Discrepancies(ctx context.Context, st store.Records, access *truce.Access, story, kind string) ([]Discrepancy, error) {
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
		err := each(ctx, st, truce.Query{Type: rules.TypeStory, Status: "disputed", Access: access}, func(r truce.Record) error {
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			return nil, err
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

// each calls fn for every record q selects, page by page, newest first.
func each(ctx context.Context, st store.Records, q truce.Query, fn func(truce.Record) error) error {
	q.Limit = 500
	for {
		page, err := st.Records(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.After = page[len(page)-1].Created
	}
}

// MaxExport bounds one export.
const MaxExport = 200_000

// Export lists the allegations q selects that v may see, newest first, for
// the ACLED, HXL and GeoJSON exports.
func (s *Service) Export(ctx context.Context, v policy.Viewer, q truce.Query) ([]truce.Allegation, error) {
	if err := s.check(v, policy.Export); err != nil {
		return nil, err
	}
	q.Type, q.Access = rules.TypeAllegation, policy.AccessOf(v)
	var out []truce.Allegation
	errFull := errors.New("full")
	err := each(ctx, s.cfg.Store, q, func(r truce.Record) error {
		var a truce.Allegation
		if err := json.Unmarshal(r.Doc, &a); err != nil {
			return err
		}
		if out = append(out, a); len(out) >= MaxExport {
			return errFull
		}
		return nil
	})
	if err != nil && err != errFull {
		return nil, err
	}
	return out, nil
}

// Receipt proves a record v may see: the entries it rests on and those
// that added their signers' keys, under the newest published checkpoint.
func (s *Service) Receipt(ctx context.Context, v policy.Viewer, typ, id string) (*receipt.Receipt, error) {
	rec, hist, err := s.Get(ctx, v, typ, id)
	if err != nil {
		return nil, err
	}
	size, signed := s.published()
	var record []int64
	for _, h := range hist {
		record = append(record, h.Index)
	}
	if len(record) == 0 {
		return nil, truce.Errorf(truce.CodeNotFound, "%s %s has no entries", typ, id)
	}
	if last := record[len(record)-1]; signed == nil || last >= size {
		return nil, truce.Errorf(truce.CodeUnavailable, "%s %s was last changed by entry %d, which no published checkpoint covers yet (the newest covers %d entries): try again in a moment",
			typ, id, last, size)
	}
	keys, err := s.keyEntries(ctx, record)
	if err != nil {
		return nil, err
	}
	return receipt.Build(ctx, s.cfg.Seq.Tiles(), signed, size, typ, id, rec.Doc, record, keys)
}

// keyEntries returns, in log order, the entries that added the keys that
// signed the given entries, and those that added the keys that signed
// those, back to the instance's first entry.
func (s *Service) keyEntries(ctx context.Context, indexes []int64) ([]int64, error) {
	snap := s.cfg.Seq.Snapshot()
	seen := map[int64]bool{}
	var out []int64
	todo := slices.Clone(indexes)
	for len(todo) > 0 {
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		leaf, err := tlog.Leaf(ctx, s.cfg.Seq.Tiles(), i)
		if err != nil {
			return nil, err
		}
		_, e, err := entry.DecodeLeaf(leaf, i)
		if err != nil {
			return nil, err
		}
		if added, ok := snap.KeyAdded(e.KeyID()); ok && !seen[added] {
			seen[added] = true
			out = append(out, added)
			todo = append(todo, added)
		}
	}
	slices.Sort(out)
	return out, nil
}

// File opens a stored file v may read, with its record: the mechanism
// reads every file, a party the files its own side uploaded. The caller
// reads it within ctx (a file in the database fetches its chunks as it is
// read) and closes it.
func (s *Service) File(ctx context.Context, v policy.Viewer, sha string) (*store.Blob, blob.File, error) {
	if err := s.check(v, policy.ReadBlob); err != nil {
		return nil, nil, err
	}
	notFound := truce.Errorf(truce.CodeNotFound, "no file %q", sha)
	if s.cfg.Files == nil {
		return nil, nil, notFound
	}
	// The mechanism reads every file; a party the ones its own members
	// uploaded, under the name they gave it.
	party := v.Member.Party
	if policy.AccessOf(v).Sees(truce.Internal, "") {
		party = ""
	}
	b, err := s.cfg.Store.Blob(ctx, sha, party)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := s.cfg.Files.Open(ctx, sha)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	return b, f, nil
}
