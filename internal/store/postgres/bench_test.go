package postgres

import (
	"testing"

	"github.com/truce-mvm/truce/internal/store/storetest"
)

// BenchmarkAppend appends batches of 64 entries, each with a record of
// about 1 KiB (its search index and keys included), as the sequencer does
// under load: entries/s is the store's part of the log's throughput.
func BenchmarkAppend(b *testing.B) {
	db, _ := open(b, Options{Migrate: true})
	b.ResetTimer()
	if err := storetest.Load(b, db, b.N, 64, 1<<10); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "entries/s")
}
