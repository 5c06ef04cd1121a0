// Package storetest is the conformance suite every Store implementation
// runs, a suite per role of the store (log, records, credentials,
// openings, blobs, custody, meta), so that the rules and surfaces above can
// rely on each contract they use.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Opener returns a new, empty store each time it is called.
type Opener func(t *testing.T) store.Store

// Run runs every role's suite.
func Run(t *testing.T, open Opener) {
	t.Run("Log", func(t *testing.T) { Log(t, open) })
	t.Run("Records", func(t *testing.T) { Records(t, open) })
	t.Run("Credentials", func(t *testing.T) { Credentials(t, open) })
	t.Run("Openings", func(t *testing.T) { Openings(t, open) })
	t.Run("Blobs", func(t *testing.T) { Blobs(t, open) })
	t.Run("Custody", func(t *testing.T) { Custody(t, open) })
	t.Run("Meta", func(t *testing.T) { Meta(t, open) })
	t.Run("Notices", func(t *testing.T) { Notices(t, open) })
	t.Run("Writable", func(t *testing.T) {
		if err := open(t).Writable(context.Background()); err != nil {
			t.Fatalf("a new store on a disk with room: %v", err)
		}
	})
}

// Log is the suite of store.Log: the tree, tiles, bundles, checkpoints,
// and batches committed whole or not at all.
func Log(t *testing.T, open Opener) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("Append", func(t *testing.T) { testLogAppend(t, open(t)) })
	t.Run("AppendIsAtomic", func(t *testing.T) { testAtomic(t, open(t)) })
}

// Records is the suite of store.Records: filters, paging, history, access
// and lookups.
func Records(t *testing.T, open Opener) {
	t.Run("Lists", func(t *testing.T) { testRecords(t, open(t)) })
	t.Run("Access", func(t *testing.T) { testAccess(t, open(t)) })
	t.Run("Find", func(t *testing.T) { testFind(t, open(t)) })
	t.Run("Search", func(t *testing.T) { testSearch(t, open(t)) })
	t.Run("HistoryFrom", func(t *testing.T) { testHistoryFrom(t, open(t)) })
	t.Run("BatchRewrites", func(t *testing.T) { testBatchRewrites(t, open(t)) })
}

// Credentials is the suite of store.Credentials.
func Credentials(t *testing.T, open Opener) {
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("Passwords", func(t *testing.T) { testPasswords(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("Invites", func(t *testing.T) { testInvites(t, open(t)) })
}

// Openings is the suite of store.Openings: written with their batch.
func Openings(t *testing.T, open Opener) { testOpenings(t, open(t)) }

// Blobs is the suite of store.Blobs.
func Blobs(t *testing.T, open Opener) { testBlobs(t, open(t)) }

// Custody is the suite of store.Custody.
func Custody(t *testing.T, open Opener) { testCustody(t, open(t)) }

// Meta is the suite of store.Meta.
func Meta(t *testing.T, open Opener) { testMeta(t, open(t)) }

// testAccess checks that lists show each reader only what it may see.
func testAccess(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	var recs []truce.Record
	for i, v := range []struct{ vis, owner string }{{truce.Public, ""}, {truce.Parties, "PK"}, {truce.Internal, "PK"}, {truce.Internal, "AF"}, {truce.Internal, ""}} {
		recs = append(recs, truce.Record{Type: "evidence", ID: fmt.Sprintf("EV-%d", i), Visibility: v.vis, Owner: v.owner, Created: int64(i + 1), Updated: int64(i + 1), Doc: []byte("{}")})
	}
	b, _ := w.batch(5, recs, nil)
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		access *truce.Access
		want   string
	}{
		{truce.Everything, "[EV-4 EV-3 EV-2 EV-1 EV-0]"},
		{&truce.Access{}, "[EV-0]"},
		{&truce.Access{Parties: true, Party: "PK"}, "[EV-2 EV-1 EV-0]"},
		{&truce.Access{Parties: true, Party: "AF"}, "[EV-3 EV-1 EV-0]"},
		{&truce.Access{Parties: true, Mechanism: true}, "[EV-4 EV-3 EV-2 EV-1 EV-0]"},
	} {
		got, err := s.Records(ctx, truce.Query{Type: "evidence", Access: c.access})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
			if !c.access.Sees(r.Visibility, r.Owner) {
				t.Errorf("listed %s to a reader who does not see it", r.ID)
			}
		}
		if fmt.Sprint(ids) != c.want {
			t.Errorf("access %+v lists %v, want %s", c.access, ids, c.want)
		}
		if n, err := s.Count(ctx, truce.Query{Type: "evidence", Access: c.access}); err != nil || n != len(ids) {
			t.Errorf("access %+v counts %d, %v; lists %d", c.access, n, err, len(ids))
		}
	}
	r, _ := s.Record(ctx, "evidence", "EV-2")
	if r.Visibility != truce.Internal || r.Owner != "PK" {
		t.Fatalf("record visibility %q owner %q", r.Visibility, r.Owner)
	}
	// A query that does not say whose access it reads with sees nothing.
	if got, err := s.Records(ctx, truce.Query{Type: "evidence"}); !errors.Is(err, store.ErrNoAccess) || len(got) != 0 {
		t.Fatalf("a query without access = %d records, %v", len(got), err)
	}
	if n, err := s.Count(ctx, truce.Query{Type: "evidence"}); !errors.Is(err, store.ErrNoAccess) || n != 0 {
		t.Fatalf("a count without access = %d, %v", n, err)
	}
}

// testSearch checks full-text search: by a word of what people wrote, in
// any script and without its diacritics, the last word as a prefix; by
// type and time; only what the reader may see; a record's new text
// replacing its old; and a query's punctuation read as nothing but
// separators.
func testSearch(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	rec := func(typ, id, vis, owner string, from int64, doc string) truce.Record {
		return truce.Record{Type: typ, ID: id, Visibility: vis, Owner: owner, From: from, To: from, Created: from, Updated: from, Doc: []byte(doc)}
	}
	b, g := w.batch(4, []truce.Record{
		rec("allegation", "AL-1", truce.Public, "PK", 10, `{"title":"Mortar fire on Kurram","narrative":"Shells struck a house in Parachinar at dusk."}`),
		rec("allegation", "AL-2", truce.Internal, "PK", 20, `{"title":"Kept within","narrative":"A protected witness saw the mortar crew."}`),
		rec("case", "CS-1", truce.Public, "", 30, `{"id":"CS-1","sha256":"mortar","notes":"Mortar craters measured; گولہ باری confirmed."}`),
		rec("member", "ana", truce.Public, "", 40, `{"name":"Mortar Analyst"}`),
	}, nil)
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	w.tree.Commit(g)
	ids := func(q truce.Search) string {
		t.Helper()
		hits, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.Type+"/"+h.ID)
			if h.Title == "" || !strings.Contains(strings.ToLower(h.Snippet), "«") {
				t.Errorf("hit %+v: no title or no highlighted words", h)
			}
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	everyone, pk, af := &truce.Access{}, &truce.Access{Parties: true, Party: "PK"}, &truce.Access{Parties: true, Party: "AF"}
	for _, c := range []struct {
		q    truce.Search
		want string
	}{
		{truce.Search{Text: "mortar", Access: truce.Everything}, "allegation/AL-1 allegation/AL-2 case/CS-1"}, // not the member, not ids or hashes
		{truce.Search{Text: "mortar", Access: pk}, "allegation/AL-1 allegation/AL-2 case/CS-1"},
		{truce.Search{Text: "mortar", Access: af}, "allegation/AL-1 case/CS-1"},
		{truce.Search{Text: "witness", Access: everyone}, ""},
		{truce.Search{Text: "PARACH", Access: everyone}, "allegation/AL-1"},         // a prefix, any case
		{truce.Search{Text: "shells house", Access: everyone}, "allegation/AL-1"},   // every word
		{truce.Search{Text: "shells crew", Access: truce.Everything}, ""},           // … in one record
		{truce.Search{Text: "گولہ", Access: everyone}, "case/CS-1"},                 // another script
		{truce.Search{Text: "mortar", Type: "case", Access: everyone}, "case/CS-1"}, // by type
		{truce.Search{Text: "mortar", From: 25, Access: everyone}, "case/CS-1"},     // by time
		{truce.Search{Text: `mortar" OR "witness NEAR(`, Access: everyone}, ""},     // syntax is words
		{truce.Search{Text: `"*^-`, Access: truce.Everything}, ""},
	} {
		if got := ids(c.q); got != c.want {
			t.Errorf("search %q (type %q, from %d) as %+v = %q, want %q", c.q.Text, c.q.Type, c.q.From, c.q.Access, got, c.want)
		}
	}
	// A record's new text replaces its old in the index.
	b, _ = w.batch(1, []truce.Record{rec("allegation", "AL-1", truce.Public, "PK", 10, `{"title":"Mortar fire on Kurram","narrative":"Revised: rockets, not shells."}`)}, nil)
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := ids(truce.Search{Text: "parachinar", Access: everyone}); got != "" {
		t.Errorf("the old text is still found: %q", got)
	}
	if got := ids(truce.Search{Text: "rockets", Access: everyone}); got != "allegation/AL-1" {
		t.Errorf("the new text is not found: %q", got)
	}
	if _, err := s.Search(ctx, truce.Search{Text: "mortar"}); !errors.Is(err, store.ErrNoAccess) {
		t.Errorf("a search without access: %v", err)
	}
}

// testFind checks lookups by a document's field: the newest record wins,
// only committed records are found, and unlisted fields are refused.
func testFind(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	src := func(id string, created int64, sha, url string) truce.Record {
		return truce.Record{Type: "source", ID: id, Visibility: truce.Parties, Created: created, Updated: created,
			Doc: fmt.Appendf(nil, `{"id":%q,"sha256":%q,"url":%q}`, id, sha, url)}
	}
	b, _ := w.batch(3, []truce.Record{src("SRC-1", 1, "aa", "https://x.example/a"), src("SRC-2", 2, "bb", "https://x.example/a"),
		src("SRC-3", 3, "cc", "https://x.example/c")}, nil)
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ field, value, want string }{
		{"sha256", "aa", "SRC-1"}, {"sha256", "cc", "SRC-3"}, {"url", "https://x.example/a", "SRC-2"}, {"url", "https://x.example/c", "SRC-3"},
	} {
		r, err := s.Find(ctx, "source", c.field, c.value)
		if err != nil || r.ID != c.want {
			t.Errorf("Find(source, %s, %s) = %v, %v; want %s", c.field, c.value, r, err, c.want)
		}
	}
	if _, err := s.Find(ctx, "source", "sha256", "zz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Find of an unknown hash = %v", err)
	}
	if _, err := s.Find(ctx, "source", "title", "x"); err == nil {
		t.Error("Find by a field that is not findable answered")
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sess := store.Session{Hash: []byte("h1"), Member: "pk-1", CSRF: "c", Created: now, Expires: now.Add(time.Hour)}
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, []byte("h1")); err != nil || got.Member != "pk-1" || got.CSRF != "c" || !got.Expires.Equal(sess.Expires) {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if err := s.DeleteSession(ctx, []byte("h1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, []byte("h1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	for _, h := range []string{"a", "b"} {
		s.PutSession(ctx, store.Session{Hash: []byte(h), Member: "pk-1", CSRF: "c", Created: now, Expires: now.Add(time.Hour)})
	}
	s.PutSession(ctx, store.Session{Hash: []byte("c"), Member: "af-1", CSRF: "c", Created: now, Expires: now.Add(time.Hour)})
	if err := s.DeleteSessions(ctx, "pk-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, []byte("a")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session of the member survives DeleteSessions: %v", err)
	}
	if _, err := s.Session(ctx, []byte("c")); err != nil {
		t.Fatalf("another member's session ended: %v", err)
	}
}

func testInvites(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	i := store.Invite{Hash: []byte("h1"), Member: "pk-1", Created: now, Expires: now.Add(72 * time.Hour)}
	if err := s.PutInvite(ctx, i); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Invite(ctx, []byte("h1")); err != nil || got.Member != "pk-1" || !got.Expires.Equal(i.Expires) {
		t.Fatalf("Invite = %+v, %v", got, err)
	}
	if got, err := s.TakeInvite(ctx, []byte("h1")); err != nil || got.Member != "pk-1" {
		t.Fatalf("TakeInvite = %+v, %v", got, err)
	}
	for _, read := range []func(context.Context, []byte) (*store.Invite, error){s.Invite, s.TakeInvite} {
		if _, err := read(ctx, []byte("h1")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a link taken once is found again: %v", err)
		}
	}
	// A new link of a member replaces the earlier one.
	s.PutInvite(ctx, store.Invite{Hash: []byte("h2"), Member: "pk-1", Created: now, Expires: now.Add(time.Hour)})
	s.PutInvite(ctx, store.Invite{Hash: []byte("h3"), Member: "pk-1", Created: now, Expires: now.Add(time.Hour)})
	s.PutInvite(ctx, store.Invite{Hash: []byte("h4"), Member: "af-1", Created: now, Expires: now.Add(time.Hour)})
	if _, err := s.Invite(ctx, []byte("h2")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an earlier link of the member still works: %v", err)
	}
	for _, h := range []string{"h3", "h4"} {
		if _, err := s.Invite(ctx, []byte(h)); err != nil {
			t.Fatalf("link %s: %v", h, err)
		}
	}
}

func testOpenings(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	b, _ := w.batch(2, nil, nil)
	task := truce.Ref{Type: "task", ID: "TK-0001"}
	b.Sealed = []store.Sealed{
		{Commitment: "sha256:aa", Index: 0, Salt: []byte("salt"), Content: []byte(`{"a":1}`)},
		{Commitment: "sha256:cc", Index: 1, Salt: []byte("pepper"), Content: []byte(`{"b":2}`), Body: true, Record: task},
	}
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if x, err := s.Opening(ctx, 0, "sha256:aa"); err != nil || string(x.Content) != `{"a":1}` || string(x.Salt) != "salt" || x.Body {
		t.Fatalf("Opening = %+v, %v", x, err)
	}
	if x, err := s.Opening(ctx, 1, "sha256:cc"); err != nil || x.Index != 1 || !x.Body || x.Record != task {
		t.Fatalf("Opening of a sealed body = %+v, %v", x, err)
	}
	if _, err := s.Opening(ctx, 0, "sha256:cc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Opening of another entry's commitment = %v", err)
	}
	if _, err := s.Opening(ctx, 0, "sha256:bb"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Opening(unknown) = %v", err)
	}
	var seen []string
	s.EachSealed(ctx, 0, func(x store.Sealed) error {
		if x.Commitment == "sha256:cc" && x.Visibility != truce.Internal {
			t.Errorf("an opening of a record the store does not hold reads as %q, not kept within the mechanism", x.Visibility)
		}
		seen = append(seen, x.Commitment)
		return nil
	})
	if strings.Join(seen, " ") != "sha256:aa sha256:cc" {
		t.Fatalf("EachSealed from 0 saw %v", seen)
	}
	seen = nil
	s.EachSealed(ctx, 1, func(x store.Sealed) error { seen = append(seen, x.Commitment); return nil })
	if strings.Join(seen, " ") != "sha256:cc" {
		t.Fatalf("EachSealed from 1 saw %v", seen)
	}
}

func testCustody(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.PutCustodialKey(ctx, "pk-1", "SHA256:x", []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if m, k, err := s.CustodialKey(ctx, "SHA256:x"); err != nil || m != "pk-1" || string(k) != "sealed" {
		t.Fatalf("CustodialKey = %q %q %v", m, k, err)
	}
	if _, _, err := s.CustodialKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CustodialKey(unknown) = %v", err)
	}
}

func testBlobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Blob(ctx, "ab", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Blob(unknown) = %v", err)
	}
	first := store.Blob{SHA256: "ab", Size: 3, MediaType: "image/png", Name: "a.png", Uploader: "pk-1", Party: "PK", Uploaded: now}
	again := first
	again.Name, again.Uploader = "renamed.png", "pk-2"
	other := first
	other.Name, other.Uploader, other.Party, other.MediaType, other.Uploaded = "b.jpg", "af-1", "AF", "image/jpeg", now.Add(time.Hour)
	for _, b := range []store.Blob{first, again, other} {
		if err := s.PutBlob(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		party string
		want  store.Blob
	}{{"PK", first}, {"AF", other}, {"", first}} {
		b, err := s.Blob(ctx, "ab", c.party)
		if err != nil || b.Uploader != c.want.Uploader || b.Name != c.want.Name || b.Party != c.want.Party || b.MediaType != c.want.MediaType || !b.Uploaded.Equal(c.want.Uploaded) {
			t.Fatalf("Blob(ab, %q) = %+v, %v; want %+v", c.party, b, err, c.want)
		}
	}
	if _, err := s.Blob(ctx, "ab", "TR"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Blob of a party that uploaded none = %v", err)
	}
	for range 2 { // deleting what is not there is no error
		if err := s.DeleteBlob(ctx, "ab", "PK"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Blob(ctx, "ab", "PK"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PK's upload after DeleteBlob = %v", err)
	}
	if b, err := s.Blob(ctx, "ab", ""); err != nil || b.Party != "AF" {
		t.Fatalf("another party's upload after DeleteBlob = %+v, %v", b, err)
	}
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := context.Background()
	cp, size, err := s.Checkpoint(ctx)
	if err != nil || cp != nil || size != 0 {
		t.Fatalf("Checkpoint on empty store = %q, %d, %v", cp, size, err)
	}
	if n, _, err := s.Tree(ctx); err != nil || n != 0 {
		t.Fatalf("Tree on empty store = %d, %v", n, err)
	}
	if _, err := s.ReadTile(ctx, 0, 0); !errors.Is(err, tlog.ErrNotFound) {
		t.Fatalf("ReadTile on empty store: %v, want tlog.ErrNotFound", err)
	}
	if _, err := s.ReadTile(ctx, -1, 0); !errors.Is(err, tlog.ErrNotFound) {
		t.Fatalf("ReadTile(-1) on empty store: %v, want tlog.ErrNotFound", err)
	}
	if _, err := s.Record(ctx, "allegation", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Record on empty store: %v", err)
	}
	if _, err := s.Meta(ctx, "origin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Meta on empty store: %v", err)
	}
}

// logWriter grows a tree and appends it to a store as the sequencer does.
type logWriter struct {
	t      testing.TB
	s      store.Store
	tree   *tlog.Tree
	signer note.Signer
}

func newLogWriter(t testing.TB, s store.Store) *logWriter {
	skey, _, err := tlog.GenerateLogKey("storetest.example/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	// From the stored tree: a store other handles appended to too.
	size, root, err := s.Tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if size == 0 {
		root, _ = tlog.RootAt(context.Background(), nil, 0)
	}
	tree, err := tlog.OpenTree(context.Background(), s, size, root)
	if err != nil {
		t.Fatal(err)
	}
	return &logWriter{t: t, s: s, tree: tree, signer: signer}
}

func (w *logWriter) batch(n int, recs []truce.Record, hist []truce.HistoryItem) (*store.Batch, *tlog.Growth) {
	w.t.Helper()
	var leaves [][]byte
	for i := 0; i < n; i++ {
		leaves = append(leaves, fmt.Appendf(nil, `{"leaf":%d}`, w.tree.Size()+int64(i)))
	}
	g, err := w.tree.Grow(context.Background(), leaves)
	if err != nil {
		w.t.Fatal(err)
	}
	cp, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: "storetest.example/log", Size: g.Size, Root: g.Root}, w.signer)
	if err != nil {
		w.t.Fatal(err)
	}
	b := &store.Batch{Start: g.OldSize, Size: g.Size, Root: g.Root, Checkpoint: cp, Tiles: g.Tiles,
		Bundles: g.Bundles, BundleFrom: g.BundleFrom, Records: recs, History: hist}
	return b, g
}

func (w *logWriter) append(n int) *tlog.Growth {
	w.t.Helper()
	b, g := w.batch(n, nil, nil)
	if err := w.s.Append(context.Background(), b); err != nil {
		w.t.Fatal(err)
	}
	w.tree.Commit(g)
	return g
}

func testLogAppend(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	var sizes []int64
	for _, n := range []int{1, 2, 100, 153, 1, 255, 256, 300, 1} {
		g := w.append(n)
		sizes = append(sizes, g.Size)
		_, size, err := s.Checkpoint(ctx)
		if err != nil || size != g.Size {
			t.Fatalf("after appending to size %d, Checkpoint size = %d, %v", g.Size, size, err)
		}
	}
	size := w.tree.Size()
	// Every leaf is readable from bundles, fragments joined in order.
	var count int64
	err := store.Leaves(ctx, s, 0, size, func(i int64, leaf []byte) error {
		if want := fmt.Sprintf(`{"leaf":%d}`, i); string(leaf) != want {
			return fmt.Errorf("leaf %d = %q, want %q", i, leaf, want)
		}
		count++
		return nil
	})
	if err != nil || count != size {
		t.Fatalf("read %d of %d leaves: %v", count, size, err)
	}
	// The tiles give the checkpoint's root.
	root, err := tlog.RootAt(ctx, s, size)
	if err != nil || root != w.tree.Root() {
		t.Fatalf("root from stored tiles = %v, %v; want %v", root, err, w.tree.Root())
	}
	// Reopening the tree from the store works at the newest size.
	if _, err := tlog.OpenTree(ctx, s, size, w.tree.Root()); err != nil {
		t.Fatal(err)
	}
	var got []int64
	if err := s.Checkpoints(ctx, func(size int64, _ []byte) error { got = append(got, size); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(sizes) {
		t.Fatalf("Checkpoints = %v, want %v", got, sizes)
	}
	if n, root, err := s.Tree(ctx); err != nil || n != size || root != w.tree.Root() {
		t.Fatalf("Tree = %d, %v, %v; want %d", n, root, err, size)
	}
	// A batch that does not extend the stored tree exactly is refused.
	b, _ := w.batch(1, nil, nil)
	b.Start--
	if err := s.Append(ctx, b); err == nil {
		t.Fatal("Append accepted a batch that does not start at the stored size")
	}
	b, _ = w.batch(1, nil, nil)
	b.Size = b.Start
	if err := s.Append(ctx, b); err == nil {
		t.Fatal("Append accepted a batch that does not grow the tree")
	}
	// Batches without a checkpoint; a checkpoint added later for them.
	b, g := w.batch(3, nil, nil)
	b.Checkpoint = nil
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	w.tree.Commit(g)
	if _, n, _ := s.Checkpoint(ctx); n != size {
		t.Fatalf("a batch without checkpoint moved the checkpoint to %d", n)
	}
	if err := s.AddCheckpoint(ctx, g.Size+1, []byte("x")); err == nil {
		t.Fatal("AddCheckpoint accepted a size beyond the committed tree")
	}
	if err := s.AddCheckpoint(ctx, size, []byte("x")); err == nil {
		t.Fatal("AddCheckpoint accepted a size not above the newest checkpoint")
	}
	cp, _ := tlog.SignCheckpoint(tlog.Checkpoint{Origin: "storetest.example/log", Size: g.Size, Root: g.Root}, w.signer)
	if err := s.AddCheckpoint(ctx, g.Size, cp); err != nil {
		t.Fatal(err)
	}
	if got, n, _ := s.Checkpoint(ctx); n != g.Size || !bytes.Equal(got, cp) {
		t.Fatalf("Checkpoint after AddCheckpoint = size %d", n)
	}
	// Cosigning: only stored checkpoints, and the newest cosigned is found
	// apart from the newest signed.
	if got, n, err := s.Cosigned(ctx); got != nil || n != 0 || err != nil {
		t.Fatalf("Cosigned before any = %q %d %v", got, n, err)
	}
	if err := s.Cosign(ctx, g.Size-1, []byte("x")); err == nil {
		t.Fatal("Cosign accepted a size with no checkpoint")
	}
	cosigned := append(bytes.Clone(cp), "— witness.example/w AAAA\n"...)
	if err := s.Cosign(ctx, size, cosigned); err != nil {
		t.Fatal(err)
	}
	if got, n, _ := s.Cosigned(ctx); n != size || !bytes.Equal(got, cosigned) {
		t.Fatalf("Cosigned = size %d %q", n, got)
	}
	if _, n, _ := s.Checkpoint(ctx); n != g.Size {
		t.Fatalf("Cosign moved the newest checkpoint to %d", n)
	}
	seen := false
	s.Checkpoints(ctx, func(n int64, note []byte) error {
		seen = seen || n == size && bytes.Equal(note, cosigned)
		return nil
	})
	if !seen {
		t.Fatal("Checkpoints does not list the cosigned note")
	}
}

func testAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	w.append(10)
	rec := truce.Record{Type: "allegation", ID: "AL-1", Created: 10, Updated: 10, Doc: []byte(`{"v":1}`)}
	h := truce.HistoryItem{Type: "allegation", ID: "AL-1", Index: 10, Kind: "k", Author: "a", Logged: "t"}
	// A batch whose last step fails (a duplicate history row) leaves nothing.
	b, _ := w.batch(5, []truce.Record{rec}, []truce.HistoryItem{h, h})
	if err := s.Append(ctx, b); err == nil {
		t.Fatal("Append accepted duplicate history rows")
	}
	if _, size, _ := s.Checkpoint(ctx); size != 10 {
		t.Fatalf("failed batch moved the checkpoint to %d", size)
	}
	if size, _, _ := s.Tree(ctx); size != 10 {
		t.Fatalf("failed batch moved the tree to %d", size)
	}
	if _, err := s.Record(ctx, "allegation", "AL-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed batch left a record behind: %v", err)
	}
	if bundle, _ := s.ReadTile(ctx, -1, 0); len(mustEntries(t, bundle)) != 10 {
		t.Fatal("failed batch left entries behind")
	}
	if tile, _ := s.ReadTile(ctx, 0, 0); len(tile) != 10*32 {
		t.Fatal("failed batch left hashes behind")
	}
	// The same batch, corrected, goes through.
	b.History = b.History[:1]
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, "allegation", "AL-1"); err != nil {
		t.Fatal(err)
	}
}

func mustEntries(t *testing.T, b []byte) [][]byte {
	t.Helper()
	e, err := tlog.BundleEntries(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func f(v float64) *float64 { return &v }

func testRecords(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix()
	recs := []truce.Record{
		{Type: "allegation", ID: "AL-1", Party: "PK", Against: "AF", Category: "armed_clash", Status: "filed", From: day, To: day, Lat: f(34.0), Lon: f(71.0), Created: 1, Updated: 1},
		{Type: "allegation", ID: "AL-2", Party: "AF", Against: "PK", Category: "air_drone_strike", Status: "filed", From: day + 86400, To: day + 2*86400, Lat: f(31.5), Lon: f(66.0), Created: 2, Updated: 2},
		{Type: "allegation", ID: "AL-3", Party: "PK", Against: "AF", Category: "air_drone_strike", Status: "admitted", Member: "pk-1", Parent: "CS-1", From: day + 5*86400, To: day + 5*86400, Created: 3, Updated: 3},
		{Type: "member", ID: "pk-1", Party: "PK", Created: 0, Updated: 0},
	}
	for i := range recs {
		recs[i].Doc = fmt.Appendf(nil, `{"id":%q}`, recs[i].ID)
	}
	hist := []truce.HistoryItem{
		{Type: "allegation", ID: "AL-1", Index: 1, Kind: "allegation.filed", Author: "pk-1", Logged: "t1"},
		{Type: "allegation", ID: "AL-2", Index: 2, Kind: "allegation.filed", Author: "af-1", Logged: "t2"},
		{Type: "allegation", ID: "AL-3", Index: 3, Kind: "allegation.filed", Author: "pk-1", Logged: "t3"},
	}
	b, g := w.batch(4, recs, hist)
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	w.tree.Commit(g)
	// Updating a record replaces it and adds history.
	upd := recs[0]
	upd.Status, upd.Updated, upd.Doc = "replied", 4, []byte(`{"id":"AL-1","status":"replied"}`)
	b, g = w.batch(1, []truce.Record{upd}, []truce.HistoryItem{{Type: "allegation", ID: "AL-1", Index: 4, Kind: "reply.filed", Author: "af-1", Logged: "t4"}})
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}

	r, err := s.Record(ctx, "allegation", "AL-1")
	if err != nil || r.Status != "replied" || r.Created != 1 || r.Updated != 4 || !bytes.Equal(r.Doc, upd.Doc) || *r.Lat != 34.0 {
		t.Fatalf("Record = %+v, %v", r, err)
	}
	if r, err := s.Record(ctx, "allegation", "AL-3"); err != nil || r.Member != "pk-1" || r.Parent != "CS-1" {
		t.Fatalf("Record = %+v, %v", r, err)
	}
	hs, err := s.History(ctx, "allegation", "AL-1")
	if err != nil || len(hs) != 2 || hs[0].Index != 1 || hs[1].Kind != "reply.filed" {
		t.Fatalf("History = %+v, %v", hs, err)
	}
	for _, c := range []struct {
		q    truce.Query
		want string
	}{
		{truce.Query{Type: "allegation"}, "[AL-3 AL-2 AL-1]"},
		{truce.Query{Type: "allegation", Limit: 2}, "[AL-3 AL-2]"},
		{truce.Query{Type: "allegation", After: 3}, "[AL-2 AL-1]"},
		{truce.Query{Type: "allegation", Since: 3}, "[AL-3 AL-1]"},
		{truce.Query{Type: "allegation", Since: 4}, "[AL-1]"},
		{truce.Query{Type: "allegation", Party: "AF"}, "[AL-3 AL-2 AL-1]"},
		{truce.Query{Type: "allegation", Filer: "AF"}, "[AL-2]"},
		{truce.Query{Type: "allegation", Against: "AF"}, "[AL-3 AL-1]"},
		{truce.Query{Type: "allegation", Category: "air_drone_strike"}, "[AL-3 AL-2]"},
		{truce.Query{Type: "allegation", Status: "replied"}, "[AL-1]"},
		{truce.Query{Type: "allegation", From: day + 86400 + 1, To: day + 3*86400}, "[AL-2]"},
		{truce.Query{Type: "allegation", From: day + 4*86400}, "[AL-3]"},
		{truce.Query{Type: "allegation", To: day}, "[AL-1]"},
		{truce.Query{Type: "allegation", BBox: &[4]float64{69, 33, 72, 35}}, "[AL-1]"},
		{truce.Query{Type: "allegation", Member: "pk-1"}, "[AL-3]"},
		{truce.Query{Type: "allegation", Parent: "CS-1", Status: "admitted"}, "[AL-3]"},
		{truce.Query{Type: "member"}, "[pk-1]"},
		{truce.Query{Type: "finding"}, "[]"},
	} {
		c.q.Access = truce.Everything
		got, err := s.Records(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != c.want && !(c.want == "[]" && ids == nil) {
			t.Errorf("Records(%+v) = %v, want %s", c.q, ids, c.want)
		}
		if c.q.Limit == 0 && c.q.After == 0 {
			if n, err := s.Count(ctx, c.q); err != nil || n != len(ids) {
				t.Errorf("Count(%+v) = %d, %v; the list has %d", c.q, n, err, len(ids))
			}
		}
	}
	var all []string
	if err := s.EachRecord(ctx, func(r truce.Record) error { all = append(all, r.Type+"/"+r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(all) != "[allegation/AL-1 allegation/AL-2 allegation/AL-3 member/pk-1]" {
		t.Fatalf("EachRecord order = %v", all)
	}
	var idx []int64
	if err := s.EachHistory(ctx, func(h truce.HistoryItem) error { idx = append(idx, h.Index); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(idx) != "[1 2 3 4]" {
		t.Fatalf("EachHistory order = %v", idx)
	}
}

func testMeta(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Meta(ctx, "origin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Meta(unset) = %v", err)
	}
	if err := s.SetMeta(ctx, "origin", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "origin", "b"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Meta(ctx, "origin"); err != nil || v != "b" {
		t.Fatalf("Meta = %q, %v", v, err)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := store.Token{Hash: []byte("0123456789abcdef0123456789abcdef"), Member: "pk-1", Created: exp.Add(-time.Hour), Expires: exp}
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, tok.Hash)
	if err != nil || got.Member != "pk-1" || !got.Expires.Equal(exp) || got.Revoked {
		t.Fatalf("Token = %+v, %v", got, err)
	}
	tok.Revoked = true
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, tok.Hash); !got.Revoked {
		t.Fatal("token revocation not stored")
	}
	if _, err := s.Token(ctx, []byte("other")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Token(unknown) = %v", err)
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, m := range []string{"pk-1", "pk-1", "af-1"} {
		tok := store.Token{Hash: fmt.Appendf(nil, "hash-%d", i), ID: fmt.Sprint(i), Name: "n", Member: m, Scopes: []string{"read"}, Created: now.Add(time.Duration(i))}
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if ts, err := s.Tokens(ctx, "af-1"); err != nil || len(ts) != 1 || ts[0].Scopes[0] != "read" {
		t.Fatalf("Tokens(af-1) = %+v, %v", ts, err)
	}
	if ts, _ := s.Tokens(ctx, ""); len(ts) != 4 {
		t.Fatalf("Tokens() = %d", len(ts))
	}
}

func testPasswords(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Password(ctx, "pk-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Password(unset) = %v", err)
	}
	for _, h := range []string{"$argon2id$one", "$argon2id$two"} {
		if err := s.PutPassword(ctx, "pk-1", h); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Password(ctx, "pk-1"); err != nil || got != h {
			t.Fatalf("Password = %q, %v; want %q", got, err, h)
		}
	}
}

// Load appends batches of n entries to s, each with n records of about
// docBytes, as a sequencer under sustained load would, and returns the
// first error. It is for implementations' own tests of what load does to
// them (the size of a write-ahead log, a full disk).
func Load(t testing.TB, s store.Store, batches, n, docBytes int) error {
	t.Helper()
	w := newLogWriter(t, s)
	pad := bytes.Repeat([]byte("x"), docBytes)
	for range batches {
		var recs []truce.Record
		for i := range n {
			idx := w.tree.Size() + int64(i)
			recs = append(recs, truce.Record{Type: "allegation", ID: fmt.Sprintf("AL-%d", idx), Visibility: truce.Public,
				Created: idx, Updated: idx, Doc: fmt.Appendf(nil, `{"pad":%q}`, pad)})
		}
		b, g := w.batch(n, recs, nil)
		if err := s.Append(context.Background(), b); err != nil {
			return err
		}
		w.tree.Commit(g)
	}
	return nil
}

// NextBatch builds, without appending it, the batch of n entries that
// extends the tree s stores: for tests of writers racing one batch, each
// built before any of them appends.
func NextBatch(t testing.TB, s store.Store, n int) *store.Batch {
	t.Helper()
	w := newLogWriter(t, s)
	var recs []truce.Record
	for i := range n {
		idx := w.tree.Size() + int64(i)
		recs = append(recs, truce.Record{Type: "allegation", ID: fmt.Sprintf("AL-%d", idx), Visibility: truce.Public,
			Created: idx, Updated: idx, Doc: []byte(`{}`)})
	}
	b, _ := w.batch(n, recs, nil)
	return b
}

// AppendRecords appends to a new store one batch of as many entries as
// recs, carrying recs, and returns Append's error: for implementations'
// own tests of records the suite does not make.
func AppendRecords(t testing.TB, s store.Store, recs []truce.Record) error {
	t.Helper()
	w := newLogWriter(t, s)
	b, _ := w.batch(len(recs), recs, nil)
	return s.Append(context.Background(), b)
}
