package sequencer_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit"
)

func encodeStd(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func signWith(t *testing.T, s *testkit.Signer, env *testkit.Env, kind string, seq uint64, body any) *dsse.Envelope {
	t.Helper()
	e, err := sequencer.Sign(kind, testkit.Origin, s.ID, seq, env.Clock.Now(), body, s.Key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sequencerSign(kind, origin, author string, seq uint64, body any, k *entry.PrivateKey) (*dsse.Envelope, error) {
	return sequencer.Sign(kind, origin, author, seq, testkit.Start, body, k)
}

func sequencerSignAt(kind, origin, author string, seq uint64, at time.Time, body any, k *entry.PrivateKey) (*dsse.Envelope, error) {
	return sequencer.Sign(kind, origin, author, seq, at, body, k)
}
