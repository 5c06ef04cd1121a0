package audit_test

import (
	"context"
	"crypto/ed25519"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// BenchmarkVerify20k measures the full offline audit — every signature,
// every rule, the tree and every checkpoint — of a log of 20,000
// allegations, in entries/s next to the design's bound: half the
// machine's Ed25519 verification rate (crypto/ed25519, all cores).
func BenchmarkVerify20k(b *testing.B) {
	const n = 20000
	env := testkit.New(b, instance.Options{})
	var wg sync.WaitGroup
	for m := 1; m <= testkit.Monitors; m++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := env.Signers[testkit.MonitorID(m)]
			for i := m; i < n; i += testkit.Monitors {
				env.Submit(b, s.Sign(b, rules.KindAllegationFiled, testkit.Allegation([]string{"AF", "PK"}[i%2], i)))
			}
		}()
	}
	wg.Wait()
	env.In.Close()
	env.In = nil
	st := openStore(b, env.Dir)
	ctx := context.Background()
	origin, _ := st.Meta(ctx, instance.MetaOrigin)
	vkey, _ := st.Meta(ctx, instance.MetaVKey)
	v, _ := noteVerifier(vkey)
	b.ResetTimer()
	var size int64
	for b.Loop() {
		rep, err := audit.Verify(ctx, st, origin, v, nil)
		if err != nil {
			b.Fatal(err)
		}
		size = rep.Size
	}
	b.StopTimer()
	perS := float64(size*int64(b.N)) / b.Elapsed().Seconds()
	b.ReportMetric(perS, "entries/s")
	b.ReportMetric(0.5*ed25519PerSecond()*float64(runtime.GOMAXPROCS(0)), "bound-entries/s")
}

// ed25519PerSecond is how many signatures crypto/ed25519 verifies in a
// second on one core.
func ed25519PerSecond() float64 {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	n, start := 0, time.Now()
	for time.Since(start) < 300*time.Millisecond {
		ed25519.Verify(pub, msg, sig)
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}
