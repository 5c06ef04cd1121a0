package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/bench"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/server"
)

// BenchmarkPagesLarge renders the pages of an instance holding 100,000
// allegations (TRUCE_BENCH_ALLEGATIONS to change it), filed over HTTP by
// 64 clients as the log's benchmark files them, against the bound of
// 100 ms a page. Building the instance takes about a minute.
func BenchmarkPagesLarge(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("TRUCE_BENCH_ALLEGATIONS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := bench.Run(ctx, bench.Options{Clients: 64, Entries: n, Dir: dir}); err != nil {
		b.Fatal(err)
	}
	in, err := instance.Open(ctx, dir, instance.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	const member, password = "bench-0000", "a long benchmark password"
	hash, err := auth.HashPassword(password)
	if err != nil {
		b.Fatal(err)
	}
	if err := in.Store.PutPassword(ctx, member, hash); err != nil {
		b.Fatal(err)
	}
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0
	srv, err := server.New(in, server.Options{Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler)
	defer hs.Close()
	s := &site{in: in, url: hs.URL}
	c := s.browser(b)
	if resp, err := c.PostForm(s.url+"/signin", map[string][]string{"member": {member}, "password": {password}}); err != nil || resp.StatusCode != 303 {
		b.Fatalf("signing in: %v", err)
	}
	mid := "AL-" + strconv.Itoa(n/2)
	for len(mid) < 7 {
		mid = "AL-0" + mid[3:]
	}
	for _, p := range []string{"/", "/allegations", "/allegations?party=AF&status=filed", "/allegations?from=2026-01-01&to=2030-12-31&category=shelling_artillery_missile",
		"/allegations/" + mid, "/map", "/search?q=mortar+border", "/records/case"} {
		name := strings.Trim(strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "_").Replace(p), "_")
		b.Run(cmpOr(name, "dashboard"), func(b *testing.B) {
			for b.Loop() {
				if code, _ := get(b, c, s.url+p); code != 200 {
					b.Fatalf("%s = %d", p, code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(100, "bound-ms")
			b.ReportMetric(float64(n), "allegations")
		})
	}
	// A situation report reads every allegation its reader may see (the
	// open ones are all of them here): not a page, and above its bound.
	b.Run("situation_report", func(b *testing.B) {
		for b.Loop() {
			if code, _ := get(b, c, s.url+"/api/v1/reports/situation?format=html"); code != 200 {
				b.Fatalf("the situation report = %d", code)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
		b.ReportMetric(float64(n), "allegations")
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
