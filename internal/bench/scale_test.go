package bench

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// BenchmarkScale grows a log of 20,000 entries on SQLite and, given
// TRUCE_TEST_POSTGRES, on PostgreSQL, and reports the scale run's figures
// (truce bench scale grows larger ones): go test -bench Scale
// -benchtime 1x ./internal/bench.
func BenchmarkScale(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			o := ScaleOptions{Entries: 20_000, Reports: 2, Probes: 200, Witnesses: 2}
			if store == "postgres" {
				if o.DB = os.Getenv("TRUCE_TEST_POSTGRES"); o.DB == "" {
					if os.Getenv("CI") == "true" {
						b.Fatal("TRUCE_TEST_POSTGRES is not set: CI must measure PostgreSQL too")
					}
					b.Skip("TRUCE_TEST_POSTGRES is not set (a postgres:// URL)")
				}
			}
			var res *ScaleResult
			for b.Loop() {
				o.Dir = b.TempDir()
				var err error
				if res, err = RunScale(context.Background(), o); err != nil {
					b.Fatal(err)
				}
			}
			last := res.Steps[len(res.Steps)-1]
			b.ReportMetric(res.EntriesPerS, "entries/s")
			b.ReportMetric(last.InclusionP99Ms, "inclusion-p99-ms")
			b.ReportMetric(last.ConsistencyP99Ms, "consistency-p99-ms")
			b.ReportMetric(res.VerifyEntriesPerS, "verify-entries/s")
			b.ReportMetric(res.ListP99Ms, "list-p99-ms")
			b.ReportMetric(res.BytesPerEntry, "disk-B/entry")
			b.ReportMetric(res.HeapMiB, "heap-MiB")
		})
	}
}

// TestScaleStops: an interrupted scale run stops where it is, mid-step,
// rather than growing the log to the end of the step first.
func TestScaleStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	grown := false
	o := ScaleOptions{Entries: 1_000_000, Reports: 1, Clients: 8, Witnesses: 1, Dir: t.TempDir(),
		Progress: func(ScaleStep) { grown = true }}
	go func() {
		time.Sleep(time.Second) // a million entries take minutes
		cancel()
	}()
	if _, err := RunScale(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("an interrupted run returned %v", err)
	}
	if grown {
		t.Fatal("the run finished its step after it was interrupted")
	}
}
