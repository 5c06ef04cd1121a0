package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchScale grows a tiny log with truce bench scale on SQLite and on
// PostgreSQL, and checks that every figure is printed and measured: a
// figure missing or zero is a benchmark that measured nothing. The second
// run prints SQLite's figures beside its own.
func TestBenchScale(t *testing.T) {
	sqliteOut := benchScale(t, "sqlite")
	against := filepath.Join(t.TempDir(), "sqlite.json")
	if err := os.WriteFile(against, []byte(sqliteOut), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("postgres", func(t *testing.T) {
		out := benchScale(t, "postgresql", "--db", pgDatabase(t), "--against", against)
		for _, want := range []string{"(sqlite at this size: ", "(sqlite: ", "bytes per entry)", "entries/s to "} {
			if !strings.Contains(out, want) {
				t.Errorf("the run against SQLite's figures does not print %q:\n%s", want, out)
			}
		}
	})

	// What is not a number of entries is refused before anything runs.
	for _, args := range [][]string{{"--entries", "0"}, {"--clients", "0"}, {"--against", filepath.Join(t.TempDir(), "none.json")}} {
		if _, _, code := run(t, append([]string{"bench", "scale"}, args...)...); code == 0 {
			t.Errorf("bench scale %v succeeded", args)
		}
	}
}

// benchScale runs bench scale to 400 entries with two reports, checks its
// output, and returns it.
func benchScale(t *testing.T, store string, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, append([]string{"bench", "scale", "--entries", "400", "--reports", "2", "--probes", "20", "--clients", "8", "--witnesses", "1"}, args...)...)
	if code != 0 {
		t.Fatalf("bench scale %v = %d\n%s\n%s", args, code, out, errOut)
	}
	steps := regexp.MustCompile(`(?m)^at (\d+) entries: (\S+) entries/s over this step · inclusion proof p99 (\S+) ms, consistency proof p99 (\S+) ms \(target ≤ 2\) · heap (\S+) MiB \(Go runtime (\S+) MiB\)`).FindAllStringSubmatch(out, -1)
	if len(steps) != 2 {
		t.Fatalf("want 2 steps printed as the log grows, got %d:\n%s", len(steps), out)
	}
	for _, st := range steps {
		for _, f := range st[1:] {
			if v, err := strconv.ParseFloat(f, 64); err != nil || v <= 0 {
				t.Errorf("step figure %q is not a positive number: %s", f, st[0])
			}
		}
	}
	if n, _ := strconv.Atoi(steps[1][1]); n < 400 || n >= 400+8 {
		t.Errorf("grew to %d entries, want 400 (less than a round of the 8 clients over)", n)
	}
	var res map[string]any
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	if res == nil {
		t.Fatalf("no JSON line:\n%s", out)
	}
	if s, _ := res["store"].(string); !strings.HasPrefix(s, store) {
		t.Errorf("store = %q, want %s…", s, store)
	}
	for _, k := range []string{"entries", "entries_per_s", "target_entries_per_s", "verify_entries_per_s", "ed25519_bound_per_s", "verify_target_per_s", "verify_peak_rss_mib",
		"allegations", "list_p99_ms", "list_target_ms", "disk_bytes", "bytes_per_entry", "heap_mib", "rss_mib", "peak_rss_mib"} {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive figure", k, res[k])
		}
	}
	byFilter, _ := res["list_p99_by_filter_ms"].(map[string]any)
	for _, f := range []string{"newest", "accused", "category", "none-match", "week", "combined", "deep-cursor"} {
		if v, ok := byFilter[f].(float64); !ok || v <= 0 {
			t.Errorf("list p99 of filter %s = %v, want a positive figure", f, byFilter[f])
		}
	}
	if res["errors"] != 0.0 {
		t.Errorf("errors = %v", res["errors"])
	}
	for _, want := range []string{" clients: grew to ", "\ntruce verify: ", "\nallegation lists at ", "\ndisk: ", "\nmemory at the end: "} {
		if !strings.Contains(out, want) {
			t.Errorf("no line %q…:\n%s", want, out)
		}
	}
	return out
}
