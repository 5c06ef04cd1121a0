package custody

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/truce-mvm/truce/internal/store/sqlite"
)

func TestVault(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "t.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keyFile := filepath.Join(dir, "custody.key")
	if err := GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	v, err := Open(db, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := v.NewKey(ctx, "pk-liaison")
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Key(ctx, k.ID())
	if err != nil || !got.Key.Equal(k.Key) || got.Member != "pk-liaison" {
		t.Fatalf("Key = %v, %v", got, err)
	}
	// At rest the key is encrypted.
	_, sealed, _ := db.CustodialKey(ctx, k.ID())
	if bytes.Contains(sealed, k.Key.Seed()) {
		t.Fatal("the private key is stored in clear")
	}
	// Another instance's custody key cannot open it.
	other := filepath.Join(dir, "other.key")
	GenerateKeyFile(other)
	v2, _ := Open(db, other)
	if _, err := v2.Key(ctx, k.ID()); err == nil {
		t.Fatal("opened with another custody key")
	}
	// A ciphertext moved to another member's row does not open.
	db.PutCustodialKey(ctx, "af-liaison", "SHA256:moved", sealed)
	if _, err := v.Key(ctx, "SHA256:moved"); err == nil {
		t.Fatal("a key opened under another member and id")
	}
	if _, err := v.Key(ctx, "SHA256:none"); err != ErrNoKey {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "custody.key")
	if err := GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	v, err := Open(nil, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := v.Seal([]byte("webhook secret"), "wh1")
	if err != nil || bytes.Contains(sealed, []byte("webhook secret")) {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if got, err := v.Open(sealed, "wh1"); err != nil || string(got) != "webhook secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := v.Open(sealed, "wh2"); err == nil {
		t.Fatal("a secret sealed for one webhook opens for another")
	}
	if _, err := v.Open(sealed[:4], "wh1"); err == nil {
		t.Fatal("a truncated secret opens")
	}
}
