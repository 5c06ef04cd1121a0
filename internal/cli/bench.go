package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
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
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
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
