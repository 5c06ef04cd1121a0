package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/truce-mvm/truce/internal/bench"
)

func cmdBench(e *env, args []string) error {
	if len(args) > 0 && args[0] == "extract" {
		return cmdBenchExtract(e, args[1:])
	}
	if len(args) > 0 && args[0] == "claims" {
		return cmdBenchClaims(e, args[1:])
	}
	if len(args) > 0 && args[0] == "scale" {
		return cmdBenchScale(e, args[1:])
	}
	fs := e.flags("bench")
	var clients listFlag
	fs.Var(&clients, "clients", "concurrent clients, one run per value (default 64,512)")
	entries := fs.Int("entries", 60000, "entries per run, split between the clients")
	witnesses := fs.Int("witnesses", 2, "witnesses on loopback that must cosign each published checkpoint")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	db := fs.String("db", "", "a PostgreSQL database (postgres://…) to keep the log in, in a schema made for each run and dropped after; default a SQLite file in a temporary directory")
	sealed := fs.Bool("sealed", false, "file every allegation for the mechanism only: sealed entries, sent with their openings (the cost of confidentiality)")
	if err := parse(fs, args); err != nil {
		return err
	}
	stop, err := cpuProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	if len(clients) == 0 {
		clients = listFlag{"64", "512"}
	}
	for _, c := range clients {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > 4096 {
			return fmt.Errorf("bad --clients value %q", c)
		}
		dir, err := os.MkdirTemp("", "truce-bench-")
		if err != nil {
			return err
		}
		res, err := bench.Run(e.ctx, bench.Options{Clients: n, Entries: *entries, Dir: dir, Witnesses: *witnesses, Sealed: *sealed, DB: *db})
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(res)
		fmt.Fprintln(e.stdout, string(b))
		what := "entries in clear"
		if res.Sealed {
			what = "sealed entries"
		}
		target := "no target"
		if res.TargetEntriesPerS > 0 {
			target = fmt.Sprintf("target ≥ %.0f", res.TargetEntriesPerS)
		}
		wal := ""
		if res.WALLimitMiB > 0 {
			wal = fmt.Sprintf(" · largest WAL %.1f MiB (folded past %.0f MiB)", res.WALMaxMiB, res.WALLimitMiB)
		}
		fmt.Fprintf(e.stdout, "%s, %d clients, %s: %.0f entries/s (%s) · ack p99 %.1f ms · ack → cosigned checkpoint p99 %.0f ms (target ≤ %.0f)%s · audit %.0f entries/s (target ≥ %.0f)\n",
			res.Store, res.Clients, what, res.EntriesPerS, target, res.AckP99Ms, res.CheckpointP99Ms, res.CheckpointTargetMs,
			wal, res.AuditEntriesPerS, res.AuditTargetPerS)
	}
	return nil
}

// cmdBenchScale grows a log to --entries and prints its figures as it
// grows and at the end, each next to its target and, given a SQLite run's
// JSON line (--against), to SQLite's.
func cmdBenchScale(e *env, args []string) error {
	fs := e.flags("bench scale")
	entries := fs.Int("entries", 10_000_000, "the size to grow the log to")
	clients := fs.Int("clients", 64, "concurrent clients filing over HTTP")
	reports := fs.Int("reports", 10, "figures taken this many times as the log grows, at even steps")
	probes := fs.Int("probes", 500, "proofs of each kind, and list pages, fetched for each figure")
	witnesses := fs.Int("witnesses", 2, "witnesses on loopback that must cosign each published checkpoint")
	db := fs.String("db", "", "a PostgreSQL database (postgres://…) to keep the log in, in a schema made for the run and dropped after; default a SQLite file in a temporary directory")
	against := fs.String("against", "", "a file holding the JSON line of an earlier run (on SQLite) to print each figure next to")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memprofile := fs.String("memprofile", "", "write a heap profile at the end of the run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *entries < 1 || *clients < 1 || *clients > 4096 || *reports < 1 || *probes < 1 {
		return fmt.Errorf("--entries, --reports and --probes must be positive, --clients between 1 and 4096")
	}
	var base *bench.ScaleResult
	if *against != "" {
		b, err := os.ReadFile(*against)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "{") {
				base = &bench.ScaleResult{}
				if err := json.Unmarshal([]byte(line), base); err != nil {
					return fmt.Errorf("%s: %w", *against, err)
				}
			}
		}
		if base == nil {
			return fmt.Errorf("%s holds no JSON line of a scale run", *against)
		}
	}
	stop, err := cpuProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	var heap io.Writer
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		heap = f
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "truce-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// than prints "(SQLite: …)" after a figure when there is one to compare.
	than := func(f func(*bench.ScaleResult) string) string {
		if base == nil {
			return ""
		}
		return " (" + base.Store + ": " + f(base) + ")"
	}
	res, err := bench.RunScale(e.ctx, bench.ScaleOptions{Entries: *entries, Clients: *clients, Reports: *reports, Probes: *probes,
		Witnesses: *witnesses, Dir: dir, DB: *db, HeapProfile: heap, Truce: self, Progress: func(st bench.ScaleStep) {
			var at string
			if base != nil {
				for _, b := range base.Steps {
					if b.Size == st.Size {
						at = fmt.Sprintf(" (%s at this size: %.0f entries/s, proofs p99 %.2f / %.2f ms, heap %.0f MiB)", base.Store, b.EntriesPerS, b.InclusionP99Ms, b.ConsistencyP99Ms, b.HeapMiB)
					}
				}
			}
			fmt.Fprintf(e.stdout, "at %d entries: %.0f entries/s over this step · inclusion proof p99 %.2f ms, consistency proof p99 %.2f ms (target ≤ %d) · heap %.0f MiB (Go runtime %.0f MiB)%s\n",
				st.Size, st.EntriesPerS, st.InclusionP99Ms, st.ConsistencyP99Ms, 2, st.HeapMiB, st.GoSysMiB, at)
		}})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(e.stdout, string(b))
	fmt.Fprintf(e.stdout, "%s, %d clients: grew to %d entries at %.0f entries/s (target ≥ %.0f)%s\n", res.Store, res.Clients, res.Entries, res.EntriesPerS, res.TargetEntriesPerS,
		than(func(b *bench.ScaleResult) string {
			return fmt.Sprintf("%.0f entries/s to %d entries", b.EntriesPerS, b.Entries)
		}))
	fmt.Fprintf(e.stdout, "truce verify: %.0f entries/s (target ≥ %.0f, half the Ed25519 bound of %.0f/s: one core's ed25519.Verify/s × %d cores), its process peaking at %.0f MiB resident%s\n",
		res.VerifyEntriesPerS, res.VerifyTargetPerS, res.Ed25519BoundPerS, res.Cores, res.VerifyPeakRSSMiB, than(func(b *bench.ScaleResult) string {
			return fmt.Sprintf("%.0f entries/s, %.0f MiB", b.VerifyEntriesPerS, b.VerifyPeakRSSMiB)
		}))
	var by []string
	for _, name := range slices.Sorted(maps.Keys(res.ListP99ByMs)) {
		by = append(by, fmt.Sprintf("%s %.1f", name, res.ListP99ByMs[name]))
	}
	fmt.Fprintf(e.stdout, "allegation lists at %d allegations, as a party reads them: p99 %.1f ms, worst filter %s (target ≤ %.0f)%s; by filter (ms): %s\n",
		res.Allegations, res.ListP99Ms, res.ListWorst, res.ListTargetMs, than(func(b *bench.ScaleResult) string {
			return fmt.Sprintf("p99 %.1f ms at %d allegations", b.ListP99Ms, b.Allegations)
		}), strings.Join(by, ", "))
	fmt.Fprintf(e.stdout, "disk: %.0f bytes per entry, %.1f MiB in all%s\n", res.BytesPerEntry, float64(res.DiskBytes)/(1<<20),
		than(func(b *bench.ScaleResult) string { return fmt.Sprintf("%.0f bytes per entry", b.BytesPerEntry) }))
	fmt.Fprintf(e.stdout, "memory at the end: heap %.0f MiB live, %.0f MiB held by the Go runtime, resident %.0f MiB once it gave back what it does not use (peak %.0f MiB), server and idle clients in one process%s\n",
		res.HeapMiB, res.GoSysMiB, res.RSSMiB, res.PeakRSSMiB, than(func(b *bench.ScaleResult) string {
			return fmt.Sprintf("heap %.0f MiB, resident %.0f MiB at %d entries", b.HeapMiB, b.RSSMiB, b.Entries)
		}))
	return nil
}

// cmdBenchExtract scores the article extractor on the public
// article-extraction benchmark.
func cmdBenchExtract(e *env, args []string) error {
	fs := e.flags("bench extract")
	dataset := fs.String("dataset", "../shared/benchmarks/article-extraction", "the benchmark's folder (ground-truth.json, html/)")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := bench.Extraction(*dataset)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(e.stdout, string(b))
	fmt.Fprintf(e.stdout, "F1 %.3f (precision %.3f, recall %.3f; target ≥ %.2f; readability.js 0.947, trafilatura 0.958) · %.2f ms/page on one core (target ≤ %.0f) · %d pages, %d refused\n",
		res.F1, res.Precision, res.Recall, res.TargetF1, res.MsPerPage, res.TargetMs, res.Pages, res.Failed)
	return nil
}

// cmdBenchClaims scores the claim extractor on the public claims
// benchmark's annotated sentences.
func cmdBenchClaims(e *env, args []string) error {
	fs := e.flags("bench claims")
	dataset := fs.String("dataset", "../shared/benchmarks/claims", "the benchmark's folder (sentences.jsonl)")
	predictions := fs.String("predictions", "", "also write the predictions here, one JSON line per sentence, for the benchmark's own scorer")
	worst := fs.Int("worst", 10, "list the sentences with the most errors")
	if err := parse(fs, args); err != nil {
		return err
	}
	var out io.Writer
	if *predictions != "" {
		f, err := os.Create(*predictions)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	res, err := bench.Claims(*dataset, out)
	if err != nil {
		return err
	}
	for _, k := range res.Kinds {
		fmt.Fprintf(e.stdout, "%-11s precision %.3f (target ≥ %.2f)  recall %.3f (target ≥ %.2f)  %d expected, %d predicted, %d right\n",
			k.Kind, k.Precision, k.Target, k.Recall, k.TargetR, k.Expected, k.Predicted, k.Matched)
	}
	l := res.CasualtyLoose
	fmt.Fprintf(e.stdout, "casualties, count and status only: precision %.3f recall %.3f · negatives left empty %d of %d · %d sentences\n",
		l.Precision, l.Recall, res.NegativesEmpty, res.Negatives, res.Sentences)
	ar, err := bench.Articles(*dataset)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "articles (%d): story pairs %d right, %d falsely merged (target 0), %d missed (target 0) · copies %d of %d found (target all), %d false (target 0) · discrepancies %d of %d flagged (target all), %d false flags (target 0)\n",
		ar.Articles, ar.StoryPairs, ar.FalseMerges, ar.MissedPairs, ar.Copies, ar.CopiesExpected, ar.FalseCopies, ar.Flagged, ar.Expected, ar.FalseFlags)
	fmt.Fprintf(e.stdout, "figures: %d corroborated although one party alone gives them (target 0) · %d of %d expected grades (one party's claim not corroborated, or claimants agreeing corroborated)\n",
		ar.OverGraded, ar.Corroboration, ar.CorroborationExpected)
	if *worst > 0 {
		fmt.Fprintf(e.stdout, "  stories found: %s\n", strings.Join(ar.Stories, " | "))
	}
	for i, m := range ar.Missed {
		if i < *worst {
			fmt.Fprintf(e.stdout, "  missed: %s\n", m)
		}
	}
	for i, m := range ar.False {
		if i < *worst {
			fmt.Fprintf(e.stdout, "  false: %s\n", m)
		}
	}
	for i, m := range res.Worst {
		if i >= *worst {
			break
		}
		fmt.Fprintf(e.stdout, "  %s %q\n    missed %v\n    made up %v\n", m.ID, m.Text, m.Missed, m.Spurious)
	}
	return nil
}

// cpuProfile starts a CPU profile written to path (none if path is
// empty); stop ends it.
func cpuProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
