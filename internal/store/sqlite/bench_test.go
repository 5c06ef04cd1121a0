package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/tlog"
)

// BenchmarkAppend measures committing batches of 100 entries with one
// allegation record and one history row each, as the sequencer does.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "t.db"), Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	empty, _ := tlog.RootAt(ctx, nil, 0)
	tree, _ := tlog.OpenTree(ctx, db, 0, empty)
	doc := make([]byte, 1100)
	for i := range doc {
		doc[i] = 'a' + byte(i%26)
	}
	lat, lon := 34.0, 71.0
	const per = 100
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var leaves [][]byte
		var recs []truce.Record
		var hist []truce.HistoryItem
		for j := 0; j < per; j++ {
			idx := tree.Size() + int64(j)
			leaves = append(leaves, doc[:900])
			id := fmt.Sprintf("AL-%07d", idx)
			recs = append(recs, truce.Record{Type: "allegation", ID: id, Party: "PK", Against: "AF", Category: "armed_clash",
				Status: "filed", From: idx, To: idx, Lat: &lat, Lon: &lon, Created: idx, Updated: idx, Doc: doc})
			hist = append(hist, truce.HistoryItem{Type: "allegation", ID: id, Index: idx, Kind: "allegation.filed", Author: "pk", Logged: "2026-11-25T00:00:00Z"})
		}
		g, err := tree.Grow(ctx, leaves)
		if err != nil {
			b.Fatal(err)
		}
		err = db.Append(ctx, &store.Batch{Start: g.OldSize, Size: g.Size, Root: g.Root, Tiles: g.Tiles, Bundles: g.Bundles,
			BundleFrom: g.BundleFrom, Records: recs, History: hist})
		if err != nil {
			b.Fatal(err)
		}
		tree.Commit(g)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*per), "µs/entry")
}
