package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

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
	const per = 500
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

// BenchmarkList100k measures filtered allegation lists at 100,000
// allegations (docs/performance.md: p99 ≤ 50 ms), reporting the p99 of each filter.
func BenchmarkList100k(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "t.db"), Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 100_000
	rng := rand.New(rand.NewPCG(5, 6))
	empty, _ := tlog.RootAt(ctx, nil, 0)
	tree, _ := tlog.OpenTree(ctx, db, 0, empty)
	doc := bytes.Repeat([]byte("x"), 1100)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for done := 0; done < n; done += 1000 {
		var leaves [][]byte
		var recs []truce.Record
		for j := 0; j < 1000; j++ {
			idx := tree.Size() + int64(j)
			leaves = append(leaves, []byte("leaf"))
			lat, lon := 29+rng.Float64()*7, 62+rng.Float64()*12
			from := start + rng.Int64N(365*86400)
			filer := []string{"PK", "AF"}[rng.IntN(2)]
			recs = append(recs, truce.Record{Type: "allegation", ID: fmt.Sprintf("AL-%07d", idx), Party: filer,
				Against: map[string]string{"PK": "AF", "AF": "PK"}[filer], Category: truce.Categories[rng.IntN(len(truce.Categories))].Slug,
				Status: []string{"filed", "admitted", "rejected", "closed"}[rng.IntN(4)], From: from, To: from + rng.Int64N(86400),
				Lat: &lat, Lon: &lon, Created: idx, Updated: idx, Doc: doc})
		}
		g, _ := tree.Grow(ctx, leaves)
		if err := db.Append(ctx, &store.Batch{Start: g.OldSize, Size: g.Size, Root: g.Root, Tiles: g.Tiles, Bundles: g.Bundles, BundleFrom: g.BundleFrom, Records: recs}); err != nil {
			b.Fatal(err)
		}
		tree.Commit(g)
	}
	day := int64(86400)
	queries := map[string]func() truce.Query{
		"newest":  func() truce.Query { return truce.Query{} },
		"party":   func() truce.Query { return truce.Query{Party: "AF"} },
		"accused": func() truce.Query { return truce.Query{Against: "PK"} },
		"category": func() truce.Query {
			return truce.Query{Category: truce.Categories[rng.IntN(len(truce.Categories))].Slug}
		},
		"time-week": func() truce.Query { f := start + rng.Int64N(300*day); return truce.Query{From: f, To: f + 7*day} },
		"bbox":      func() truce.Query { return truce.Query{BBox: &[4]float64{69, 32, 71, 35}} },
		"combined": func() truce.Query {
			f := start + rng.Int64N(300*day)
			return truce.Query{Against: "AF", Category: "armed_clash", From: f, To: f + 30*day}
		},
		"none-match":  func() truce.Query { return truce.Query{Category: "chemical_weapon", Against: "XX"} },
		"deep-cursor": func() truce.Query { return truce.Query{Party: "PK", After: 1000 + rng.Int64N(5000)} },
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				query := q()
				query.Type, query.Limit = "allegation", 50
				query.Access = &truce.Access{Parties: true, Party: "PK"} // as a liaison reads
				t0 := time.Now()
				if _, err := db.Records(ctx, query); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(50, "bound-ms")
		})
	}
}

// BenchmarkProofs1M measures inclusion and consistency proofs in a log of
// 1,000,000 entries (docs/performance.md: p99 ≤ 2 ms), read from the store directly
// and through the server's cache of full tiles.
func BenchmarkProofs1M(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "t.db"), Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 1_000_000
	empty, _ := tlog.RootAt(ctx, nil, 0)
	tree, _ := tlog.OpenTree(ctx, db, 0, empty)
	for tree.Size() < n {
		leaves := make([][]byte, 10_000)
		for j := range leaves {
			leaves[j] = fmt.Appendf(nil, `{"leaf":%d}`, tree.Size()+int64(j))
		}
		g, _ := tree.Grow(ctx, leaves)
		if err := db.Append(ctx, &store.Batch{Start: g.OldSize, Size: g.Size, Root: g.Root, Tiles: g.Tiles, Bundles: g.Bundles, BundleFrom: g.BundleFrom}); err != nil {
			b.Fatal(err)
		}
		tree.Commit(g)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, src := range []struct {
		name string
		tr   tlog.TileReader
	}{{"store", db}, {"cached", tlog.NewCache(db, 4096)}} {
		for _, kind := range []string{"inclusion", "consistency"} {
			b.Run(kind+"-"+src.name, func(b *testing.B) {
				var lat []time.Duration
				for b.Loop() {
					size := n - rng.Int64N(1000)
					t0 := time.Now()
					var err error
					if kind == "inclusion" {
						_, err = tlog.InclusionProof(ctx, src.tr, rng.Int64N(size), size)
					} else {
						_, err = tlog.ConsistencyProof(ctx, src.tr, 1+rng.Int64N(size), size)
					}
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(2, "bound-ms")
			})
		}
	}
}
