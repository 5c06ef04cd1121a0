package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
)

// ReplayReport is what replaying a log found.
type ReplayReport struct {
	Entries int64
	Records int
	History int
	// Digest is a SHA-256 over every replayed record (type, id, indexed
	// fields, document), in type and id order: two logs that replay to the
	// same state have the same digest.
	Digest [32]byte
}

// Rebuild applies every entry of st to a new state and returns it with the
// history the entries wrote.
func Rebuild(ctx context.Context, st store.Store) (*rules.State, []truce.HistoryItem, error) {
	size, _, err := st.Tree(ctx)
	if err != nil {
		return nil, nil, err
	}
	state := rules.New()
	var hist []truce.HistoryItem
	err = store.Leaves(ctx, st, 0, size, func(i int64, leaf []byte) error {
		logged, cmd, err := rules.DecodeLeaf(leaf, i)
		if err == nil && cmd.Blind() {
			if err = store.Unseal(ctx, st, i, cmd.Entry); err == nil {
				cmd, err = rules.Decode(cmd.Entry)
			}
		}
		if err == nil {
			var applied *rules.Applied
			if applied, err = state.Apply(cmd, i, logged); err == nil {
				hist = append(hist, applied.History...)
			}
		}
		if err != nil {
			return &Problem{i, err.Error()}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return state, hist, nil
}

// Replay rebuilds the projections from the log in st and compares them,
// record by record and history row by history row, with those st holds.
// The first difference is returned as a *Problem naming the record.
func Replay(ctx context.Context, st store.Store) (*ReplayReport, error) {
	state, hist, err := Rebuild(ctx, st)
	if err != nil {
		return nil, err
	}
	want, err := state.Records()
	if err != nil {
		return nil, err
	}
	rep := &ReplayReport{Entries: state.Size, Records: len(want), History: len(hist), Digest: Digest(want)}

	i := 0
	err = st.EachRecord(ctx, func(got truce.Record) error {
		if i >= len(want) {
			return &Problem{-1, fmt.Sprintf("record %s/%s is in the database but not in the log", got.Type, got.ID)}
		}
		w := want[i]
		if got.Type != w.Type || got.ID != w.ID {
			if cmp.Or(cmp.Compare(got.Type, w.Type), cmp.Compare(got.ID, w.ID)) < 0 {
				return &Problem{-1, fmt.Sprintf("record %s/%s is in the database but not in the log", got.Type, got.ID)}
			}
			return &Problem{-1, fmt.Sprintf("record %s/%s is in the log but missing from the database", w.Type, w.ID)}
		}
		if f := diff(got, w); f != "" {
			return &Problem{-1, fmt.Sprintf("record %s/%s differs from the log in %s", w.Type, w.ID, f)}
		}
		i++
		return nil
	})
	if err != nil {
		return rep, err
	}
	if i < len(want) {
		return rep, &Problem{-1, fmt.Sprintf("record %s/%s is in the log but missing from the database", want[i].Type, want[i].ID)}
	}

	order := func(a, b truce.HistoryItem) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	}
	slices.SortFunc(hist, order)
	j := 0
	err = st.EachHistory(ctx, func(got truce.HistoryItem) error {
		switch {
		case j >= len(hist) || order(got, hist[j]) < 0:
			return &Problem{got.Index, fmt.Sprintf("history row %s/%s at entry %d is in the database but not in the log", got.Type, got.ID, got.Index)}
		case order(got, hist[j]) > 0:
			w := hist[j]
			return &Problem{w.Index, fmt.Sprintf("history row %s/%s at entry %d is missing from the database", w.Type, w.ID, w.Index)}
		case got != hist[j]:
			return &Problem{got.Index, fmt.Sprintf("history row %s/%s at entry %d differs from the log", got.Type, got.ID, got.Index)}
		}
		j++
		return nil
	})
	if err != nil {
		return rep, err
	}
	if j < len(hist) {
		return rep, &Problem{hist[j].Index, fmt.Sprintf("history row %s/%s at entry %d is missing from the database", hist[j].Type, hist[j].ID, hist[j].Index)}
	}
	return rep, nil
}

// diff names the first field in which two records differ.
func diff(a, b truce.Record) string {
	f := func(x, y *float64) bool {
		return (x == nil) == (y == nil) && (x == nil || *x == *y)
	}
	switch {
	case a.Party != b.Party:
		return "party"
	case a.Against != b.Against:
		return "against"
	case a.Category != b.Category:
		return "category"
	case a.Status != b.Status:
		return "status"
	case a.Member != b.Member || a.Parent != b.Parent:
		return "member or parent"
	case a.Visibility != b.Visibility || a.Owner != b.Owner:
		return "visibility"
	case a.From != b.From || a.To != b.To:
		return "time"
	case !f(a.Lat, b.Lat) || !f(a.Lon, b.Lon):
		return "place"
	case a.Created != b.Created || a.Updated != b.Updated:
		return "log indexes"
	case !bytes.Equal(a.Doc, b.Doc):
		return "content"
	}
	return ""
}

// Digest hashes records in the order given.
func Digest(recs []truce.Record) [32]byte {
	h := sha256.New()
	str := func(s string) {
		binary.Write(h, binary.BigEndian, uint32(len(s)))
		h.Write([]byte(s))
	}
	for _, r := range recs {
		for _, s := range []string{r.Type, r.ID, r.Party, r.Against, r.Category, r.Status, r.Member, r.Parent, r.Visibility, r.Owner, string(r.Doc)} {
			str(s)
		}
		binary.Write(h, binary.BigEndian, [4]int64{r.From, r.To, r.Created, r.Updated})
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// IsProblem reports whether err is a finding about the log, as opposed to
// a failure to read it.
func IsProblem(err error) bool {
	var p *Problem
	return errors.As(err, &p)
}
