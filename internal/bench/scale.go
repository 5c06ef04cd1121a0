package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/instance"
)

// Bounds the scale benchmark prints its figures against
// (docs/performance.md).
const (
	proofTargetMs = 2  // an inclusion or consistency proof, p99
	listTargetMs  = 50 // a filtered page of allegations as a party reads it, p99
)

// ScaleOptions configure RunScale.
type ScaleOptions struct {
	Entries int // the size to grow the log to, the entries of its creation included
	Clients int // concurrent clients filing over HTTP (default 64)
	// Reports is how many times figures are taken as the log grows, at
	// even steps (default 10: every tenth of Entries).
	Reports int
	// Probes is how many proofs of each kind, and list pages, are fetched
	// for each figure (default 500).
	Probes    int
	Witnesses int    // as Options.Witnesses
	Dir       string // a fresh directory for the instance
	DB        string // as Options.DB
	Logger    *slog.Logger
	// Progress, if set, is given each step's figures as they are taken.
	Progress func(ScaleStep)
	// HeapProfile, if set, is given a heap profile at the end: what the
	// server holds in memory, by where it was allocated.
	HeapProfile io.Writer
	// Truce, if set, is a truce binary that verifies the grown log as an
	// operator would, truce verify in a process of its own, whose memory
	// is then measured apart from the server's; else the log is verified
	// in this process.
	Truce string
}

// ScaleStep is what the log does at one size.
type ScaleStep struct {
	Size int64 `json:"size"`
	// EntriesPerS is the step's appends, durable, over HTTP.
	EntriesPerS      float64 `json:"entries_per_s"`
	InclusionP99Ms   float64 `json:"inclusion_p99_ms"`   // GET /log/proof/inclusion at the published size
	ConsistencyP99Ms float64 `json:"consistency_p99_ms"` // GET /log/proof/consistency to the published size
	HeapMiB          float64 `json:"heap_mib"`           // the Go heap in use after a collection
	GoSysMiB         float64 `json:"go_sys_mib"`         // all the Go runtime holds from the system
}

// ScaleResult is a scale run's figures, printed as one JSON line.
type ScaleResult struct {
	Store   string      `json:"store"`
	Clients int         `json:"clients"`
	Entries int64       `json:"entries"`
	Steps   []ScaleStep `json:"steps"`
	// Growth is the whole growth: the appends' time, signing aside.
	EntriesPerS       float64 `json:"entries_per_s"`
	TargetEntriesPerS float64 `json:"target_entries_per_s"`
	ProofTargetMs     float64 `json:"proof_target_ms"`
	// Verify is truce verify of the whole log at the end, against the
	// machine's Ed25519 bound (one core's ed25519.Verify per second times
	// the cores); the target is half the bound.
	VerifyEntriesPerS float64 `json:"verify_entries_per_s"`
	Ed25519BoundPerS  float64 `json:"ed25519_bound_per_s"`
	VerifyTargetPerS  float64 `json:"verify_target_per_s"`
	VerifyProcess     bool    `json:"verify_process"`      // truce verify ran as a process of its own
	VerifyPeakRSSMiB  float64 `json:"verify_peak_rss_mib"` // that process's peak resident size
	Cores             int     `json:"cores"`
	// Lists are pages of 50 allegations as a party's liaison reads them,
	// over HTTP, with the filters of the web pages.
	Allegations  int64              `json:"allegations"`
	ListP99Ms    float64            `json:"list_p99_ms"`
	ListWorst    string             `json:"list_worst"` // the filter with the slowest p99
	ListP99ByMs  map[string]float64 `json:"list_p99_by_filter_ms"`
	ListTargetMs float64            `json:"list_target_ms"`
	// Disk is the database's bytes: SQLite's files, or PostgreSQL's
	// tables with their indexes and TOAST (its write-ahead log aside).
	DiskBytes     int64   `json:"disk_bytes"`
	BytesPerEntry float64 `json:"bytes_per_entry"`
	// The process's memory at the end: the server's, with the idle load
	// generator beside it.
	HeapMiB    float64 `json:"heap_mib"`
	GoSysMiB   float64 `json:"go_sys_mib"` // all the Go runtime holds from the system
	RSSMiB     float64 `json:"rss_mib"`    // resident, once the runtime gave back what it does not use: the Go heap and what is allocated outside it (SQLite's page caches)
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Errors     int     `json:"errors"`
}

// RunScale grows a fresh log to o.Entries entries — allegations filed
// over HTTP by o.Clients members — taking figures as it grows: append
// throughput, and the p99 of proofs as a client fetches them; then
// verifies the whole log, lists allegations as a party reads them, and
// measures the database's size and the process's memory.
func RunScale(ctx context.Context, o ScaleOptions) (*ScaleResult, error) {
	if o.Entries < 1 {
		return nil, fmt.Errorf("grow the log to at least one entry")
	}
	o.Clients = orDefault(o.Clients, 64)
	o.Reports = min(orDefault(o.Reports, 10), o.Entries)
	o.Probes = orDefault(o.Probes, 500)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	res := &ScaleResult{Store: "sqlite", Clients: o.Clients, TargetEntriesPerS: targets[64], ProofTargetMs: proofTargetMs,
		ListTargetMs: listTargetMs, Cores: runtime.GOMAXPROCS(0)}
	if o.DB != "" {
		db, server, drop, err := freshSchema(ctx, o.DB)
		if err != nil {
			return nil, err
		}
		defer drop()
		o.DB, res.Store = db, server
		res.TargetEntriesPerS = pgTargets[64]
	}
	rg, err := newRig(ctx, Options{Clients: o.Clients, Dir: o.Dir, DB: o.DB, Witnesses: o.Witnesses, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	defer rg.close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Clients + 8, DisableCompression: true}, Timeout: time.Minute}
	defer hc.CloseIdleConnections()
	conns := make([]*conn, o.Clients)
	for c := range conns {
		if conns[c], err = dial(rg.addr); err != nil {
			return nil, err
		}
		defer conns[c].Close()
	}
	rng := rand.New(rand.NewPCG(1, 2))

	// Each member files its share, a chunk at a time: a chunk is signed
	// (as clients would, elsewhere: not timed), then sent.
	const chunk = 1 << 16              // entries signed at once, about 2 KiB each
	start := rg.in.Seq.Snapshot().Size // what init logged
	var growth time.Duration
	done := 0 // entries each member has filed
	target := int64(o.Entries)
	for step := 1; step <= o.Reports; step++ {
		want := max(start+1, target*int64(step)/int64(o.Reports))
		var stepTime time.Duration
		stepFrom := rg.in.Seq.Snapshot().Size
		for rg.in.Seq.Snapshot().Size < want {
			if err := ctx.Err(); err != nil {
				return nil, err // interrupted: stop between chunks, and the clients mid-chunk
			}
			left := want - rg.in.Seq.Snapshot().Size
			per := int(min(int64(max(1, chunk/o.Clients)), (left+int64(o.Clients)-1)/int64(o.Clients)))
			bodies := rg.sign(done, per, false)
			done += per
			t0 := time.Now()
			var wg sync.WaitGroup
			errs := make([]int, o.Clients)
			for c := range o.Clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, req := range bodies[c] {
						if ctx.Err() != nil {
							return
						}
						if _, err := conns[c].post(req); err != nil {
							errs[c]++
						}
					}
				}()
			}
			wg.Wait()
			stepTime += time.Since(t0)
			for _, e := range errs {
				res.Errors += e
			}
			if res.Errors > 0 {
				return nil, fmt.Errorf("%d entries refused while growing the log", res.Errors)
			}
		}
		growth += stepTime
		size := rg.in.Seq.Snapshot().Size
		if err := waitPublished(ctx, rg, size); err != nil {
			return nil, err
		}
		st := ScaleStep{Size: size, EntriesPerS: float64(size-stepFrom) / stepTime.Seconds()}
		if st.InclusionP99Ms, st.ConsistencyP99Ms, err = proofs(hc, rg, rng, o.Probes, size); err != nil {
			return nil, err
		}
		st.HeapMiB, st.GoSysMiB = heapMiB(), goSysMiB()
		res.Steps = append(res.Steps, st)
		if o.Progress != nil {
			o.Progress(st)
		}
	}
	res.Entries = rg.in.Seq.Snapshot().Size
	res.EntriesPerS = float64(res.Entries-start) / growth.Seconds()

	// truce verify, as an operator runs it beside the serving process.
	one, _ := ed25519Rate()
	res.Ed25519BoundPerS = one * float64(res.Cores)
	res.VerifyTargetPerS = res.Ed25519BoundPerS / 2
	if err := verify(ctx, o, res); err != nil {
		return nil, err
	}

	if res.Allegations, res.ListP99ByMs, err = lists(hc, rg, rng, o.Probes); err != nil {
		return nil, err
	}
	for name, p99 := range res.ListP99ByMs {
		if p99 > res.ListP99Ms || (p99 == res.ListP99Ms && name < res.ListWorst) {
			res.ListP99Ms, res.ListWorst = p99, name
		}
	}

	if res.DiskBytes, err = diskBytes(ctx, o); err != nil {
		return nil, err
	}
	res.BytesPerEntry = float64(res.DiskBytes) / float64(res.Entries)
	res.HeapMiB, res.GoSysMiB = heapMiB(), goSysMiB()
	// Resident once the runtime has given back what it no longer uses:
	// what the server keeps; the peak says what it took on the way.
	debug.FreeOSMemory()
	res.RSSMiB, res.PeakRSSMiB = rss()
	if o.HeapProfile != nil {
		if err := pprof.WriteHeapProfile(o.HeapProfile); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// orDefault is v if it is set, else def.
func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// verify runs truce verify over the grown log, beside the serving
// process, and measures its throughput (and, as a process of its own,
// its peak memory).
func verify(ctx context.Context, o ScaleOptions, res *ScaleResult) error {
	t0 := time.Now()
	if o.Truce != "" {
		cmd := exec.CommandContext(ctx, o.Truce, "verify", "--data", o.Dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("truce verify of the grown log: %v: %s", err, out)
		}
		res.VerifyEntriesPerS = float64(res.Entries) / time.Since(t0).Seconds()
		res.VerifyProcess = true
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.VerifyPeakRSSMiB = float64(u.Maxrss) / 1024 // kilobytes on Linux
		}
		return nil
	}
	st, err := instance.OpenStoreAt(ctx, o.Dir, o.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st.Store, st.Origin, st.Verifier, nil)
	if err != nil {
		return fmt.Errorf("verifying the grown log: %w", err)
	}
	res.VerifyEntriesPerS = float64(rep.Size) / time.Since(t0).Seconds()
	return nil
}

// waitPublished waits for a published checkpoint covering size entries.
func waitPublished(ctx context.Context, rg *rig, size int64) error {
	deadline := time.Now().Add(time.Minute)
	for rg.published() < size {
		if time.Now().After(deadline) {
			return fmt.Errorf("no checkpoint covering %d entries was published within a minute", size)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// proofs fetches n inclusion proofs of random entries and n consistency
// proofs from random older sizes, each to the tree of size, and returns
// the p99 of each, in milliseconds.
func proofs(hc *http.Client, rg *rig, rng *rand.Rand, n int, size int64) (inclusion, consistency float64, err error) {
	var inc, con []float64
	for range n {
		q := fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", rng.Int64N(size), size)
		ms, err := fetch(hc, rg.base+q, rg.tokens[0])
		if err != nil {
			return 0, 0, err
		}
		inc = append(inc, ms)
		q = fmt.Sprintf("/log/proof/consistency?old=%d&size=%d", 1+rng.Int64N(size), size)
		if ms, err = fetch(hc, rg.base+q, rg.tokens[0]); err != nil {
			return 0, 0, err
		}
		con = append(con, ms)
	}
	return percentile(inc, 0.99), percentile(con, 0.99), nil
}

// fetch GETs url and returns how long the whole answer took, in ms.
func fetch(hc *http.Client, u, token string) (float64, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := ms(time.Since(t0))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, b)
	}
	return took, nil
}

// lists fetches pages of allegations as the PK liaison reads them, with
// each filter the web pages offer, n pages in all, and returns how many
// allegations the liaison sees and the p99 of each filter.
func lists(hc *http.Client, rg *rig, rng *rand.Rand, n int) (int64, map[string]float64, error) {
	snap := rg.in.Seq.Snapshot()
	size := snap.Size
	now := time.Now().UTC()
	day := func(d time.Time) string { return d.Format(time.DateOnly) }
	filters := []struct {
		name  string
		query func() url.Values
	}{
		{"newest", func() url.Values { return url.Values{} }},
		{"accused", func() url.Values { return url.Values{"accused": {"AF"}} }},
		{"category", func() url.Values { return url.Values{"category": {"shelling_artillery_missile"}} }},
		{"none-match", func() url.Values { return url.Values{"category": {"chemical_weapon"}, "accused": {"AF"}} }},
		{"week", func() url.Values {
			f := now.Add(-time.Duration(rng.IntN(21*24)) * time.Hour)
			return url.Values{"from": {day(f)}, "to": {day(f.Add(7 * 24 * time.Hour))}}
		}},
		{"combined", func() url.Values {
			f := now.Add(-time.Duration(rng.IntN(21*24)) * time.Hour)
			return url.Values{"accused": {"PK"}, "category": {"shelling_artillery_missile"}, "from": {day(f)}, "to": {day(f.Add(7 * 24 * time.Hour))}}
		}},
		{"deep-cursor", func() url.Values {
			return url.Values{"accused": {"AF"}, "cursor": {strconv.FormatInt(1+rng.Int64N(size), 10)}}
		}},
	}
	lat := map[string][]float64{}
	for i := range max(n, len(filters)) {
		f := filters[i%len(filters)]
		q := f.query()
		q.Set("limit", "50")
		ms, err := fetch(hc, rg.base+"/api/v1/allegations?"+q.Encode(), rg.liaison)
		if err != nil {
			return 0, nil, err
		}
		lat[f.name] = append(lat[f.name], ms)
	}
	p99 := map[string]float64{}
	for name, l := range lat {
		p99[name] = percentile(l, 0.99)
	}
	seen, err := rg.in.Store.Count(context.Background(), truce.Query{Type: "allegation", Access: &truce.Access{Parties: true, Party: "PK"}})
	return int64(seen), p99, err
}

// diskBytes is the size of the database: SQLite's files in the data
// directory, or the tables of the run's schema on PostgreSQL with their
// indexes and TOAST.
func diskBytes(ctx context.Context, o ScaleOptions) (int64, error) {
	if o.DB == "" {
		var n int64
		for _, suffix := range []string{"", "-wal", "-shm"} {
			fi, err := os.Stat(filepath.Join(o.Dir, instance.DBFile+suffix))
			if err == nil {
				n += fi.Size()
			}
		}
		return n, nil
	}
	conn, err := pgx.Connect(ctx, o.DB)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::INT8 FROM pg_class c
		JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
	return n, err
}

// heapMiB is the Go heap in use after a collection.
func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// goSysMiB is all the memory the Go runtime holds from the system.
func goSysMiB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.Sys) / (1 << 20)
}

// rss reads the process's resident memory, now and at its peak, from
// /proc (0 where there is none).
func rss() (now, peak float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			now = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return now, peak
}
