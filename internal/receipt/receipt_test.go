package receipt

import (
	"crypto/rand"
	"encoding/json"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/tlog"
)

// FuzzVerify feeds receipts from anywhere to Verify: it must refuse what
// does not verify, without panicking. (The receipts the server builds are
// checked in internal/audit's tests and end to end.)
func FuzzVerify(f *testing.F) {
	skey, vkey, _ := note.GenerateKey(rand.Reader, "fuzz.example/log")
	signer, _ := note.NewSigner(skey)
	cp, _ := tlog.SignCheckpoint(tlog.Checkpoint{Origin: "fuzz.example/log", Size: 1, Root: tlog.Hash{}}, signer)
	proof := tlog.Receipt{Index: 0, Checkpoint: cp, Extra: []byte(`{"index":0}`)}.Marshal()
	f.Add([]byte(`{"type":"finding","id":"FD-0001","document":{},"checkpoint":"","entries":[]}`))
	f.Add([]byte(`{"type":"finding","id":"FD-0001","document":{},"checkpoint":` + quote(cp) + `,"entries":[{"index":0,"role":"record","proof":` + quote(proof) + `}]}`))
	f.Add([]byte(`{"entries":[{"index":-1,"role":"key","proof":"c2sp.org/tlog-proof@v1\nindex 0\n\n"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, c, err := Verify(b, vkey, nil, 0); err == nil && len(c.Entries) == 0 {
			t.Fatal("a receipt without entries verified")
		}
	})
}

func quote(b []byte) string {
	q, _ := json.Marshal(string(b))
	return string(q)
}
