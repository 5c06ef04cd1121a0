package sequencer

import "sync/atomic"

// BatchBuckets are the upper bounds of the batch sizes Stats counts:
// powers of two up to the largest batch.
var BatchBuckets = [...]int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}

// Stats are what the sequencer has done since it opened, for monitoring.
type Stats struct {
	// Batches and Entries count what was committed.
	Batches, Entries int64
	// BatchSizes[i] counts the committed batches of at most
	// BatchBuckets[i] entries and more than the bound before it; the last
	// element, those larger than every bound.
	BatchSizes [len(BatchBuckets) + 1]int64
	// StoreErrors counts batches the store failed to commit.
	StoreErrors int64
}

// stats are the counters behind Stats.
type stats struct {
	batches, entries, storeErrors atomic.Int64
	sizes                         [len(BatchBuckets) + 1]atomic.Int64
}

func (c *stats) committed(n int) {
	c.batches.Add(1)
	c.entries.Add(int64(n))
	i := 0
	for i < len(BatchBuckets) && n > BatchBuckets[i] {
		i++
	}
	c.sizes[i].Add(1)
}

// Stats returns the sequencer's counts so far.
func (s *Sequencer) Stats() Stats {
	st := Stats{Batches: s.stats.batches.Load(), Entries: s.stats.entries.Load(), StoreErrors: s.stats.storeErrors.Load()}
	for i := range st.BatchSizes {
		st.BatchSizes[i] = s.stats.sizes[i].Load()
	}
	return st
}
