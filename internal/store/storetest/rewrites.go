package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
)

// testBatchRewrites checks what a batch leaves of records it rewrites: a
// record twice in one batch is as its last says; a record rewritten keeps
// its place in search's newest-first order, and its old words and its old
// keys are no longer found; a key its document no longer has is gone.
func testBatchRewrites(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	al := func(id string, created, updated int64, narrative string) truce.Record {
		return truce.Record{Type: "allegation", ID: id, Visibility: truce.Public, Created: created, Updated: updated,
			Doc: fmt.Appendf(nil, `{"title":"Report %s","narrative":%q}`, id, narrative)}
	}
	src := func(id string, created, updated int64, fields string) truce.Record {
		return truce.Record{Type: "source", ID: id, Visibility: truce.Public, Created: created, Updated: updated,
			Doc: fmt.Appendf(nil, `{"id":%q%s}`, id, fields)}
	}
	for _, recs := range [][]truce.Record{
		{al("AL-1", 0, 0, "common alpha"), src("SRC-1", 1, 1, `,"sha256":"s1","url":"https://x.example/1"`)},
		{al("AL-2", 2, 2, "common delta"), al("AL-1", 0, 2, "common beta"), al("AL-1", 0, 2, "common gamma"),
			src("SRC-1", 1, 2, `,"sha256":"s1b"`)},
	} {
		b, g := w.batch(2, recs, nil)
		if err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		w.tree.Commit(g)
	}
	r, err := s.Record(ctx, "allegation", "AL-1")
	if err != nil || !strings.Contains(string(r.Doc), "gamma") || r.Updated != 2 || r.Created != 0 {
		t.Errorf("AL-1, twice in a batch = %+v, %v; want its last version", r, err)
	}
	search := func(text string) string {
		t.Helper()
		hits, err := s.Search(ctx, truce.Search{Text: text, Access: truce.Everything})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		return strings.Join(ids, " ")
	}
	for text, want := range map[string]string{
		"common": "AL-2 AL-1", // newest first by when each was first written, not last
		"gamma":  "AL-1",
		"beta":   "",
		"alpha":  "",
		"delta":  "AL-2",
	} {
		if got := search(text); got != want {
			t.Errorf("search %q = %q, want %q", text, got, want)
		}
	}
	for _, c := range []struct{ field, value, want string }{
		{"sha256", "s1b", "SRC-1"}, {"sha256", "s1", ""}, {"url", "https://x.example/1", ""},
	} {
		r, err := s.Find(ctx, "source", c.field, c.value)
		switch {
		case c.want == "" && !errors.Is(err, store.ErrNotFound):
			t.Errorf("Find(source, %s, %s) = %v, %v; want nothing: the record no longer has it", c.field, c.value, r, err)
		case c.want != "" && (err != nil || r.ID != c.want):
			t.Errorf("Find(source, %s, %s) = %v, %v; want %s", c.field, c.value, r, err, c.want)
		}
	}
}
