package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/receipt"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/tlog"
)

// receiptOf returns the handler of a record type's receipts: the entries
// the record rests on and those that added their signers' keys, proven
// under the newest published checkpoint.
func receiptOf(typ string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		rec, hist, err := s.VisibleRecord(r.Context(), policy.AccessOf(viewerOf(r)), typ, id)
		if err != nil {
			return err
		}
		size, signed := s.Published()
		var record []int64
		for _, h := range hist {
			record = append(record, h.Index)
		}
		if len(record) == 0 {
			return truce.Errorf(truce.CodeNotFound, "%s %s has no entries", typ, id)
		}
		if last := record[len(record)-1]; signed == nil || last >= size {
			return truce.Errorf(truce.CodeUnavailable, "%s %s was last changed by entry %d, which no published checkpoint covers yet (the newest covers %d entries): try again in a moment",
				typ, id, last, size)
		}
		ctx := r.Context()
		keys, err := s.keyEntries(ctx, record)
		if err != nil {
			return err
		}
		rc, err := receipt.Build(ctx, s.cfg.Seq.Tiles(), signed, size, typ, id, rec.Doc, record, keys)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rc)
		return nil
	}
}

// keyEntries returns, in log order, the entries that added the keys that
// signed the given entries, and those that added the keys that signed
// those, back to the instance's first entry.
func (s *Server) keyEntries(ctx context.Context, indexes []int64) ([]int64, error) {
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
		var added int64
		var ok bool
		s.cfg.Seq.View(func(st *rules.State) { added, ok = st.KeyAdded(e.KeyID()) })
		if ok && !seen[added] {
			seen[added] = true
			out = append(out, added)
			todo = append(todo, added)
		}
	}
	slices.Sort(out)
	return out, nil
}
