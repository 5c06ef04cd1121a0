// Package custody keeps the signing keys the server holds for members who
// work in the browser. Each key is encrypted at rest with the instance's
// custody key (AES-256-GCM), bound to its member and key id, and the log
// marks it custodial when it is registered, so every entry signed with it
// is known to have been signed by the server on the member's behalf.
package custody

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/store"
)

// Vault encrypts and decrypts custodial keys.
type Vault struct {
	store store.Custody
	aead  cipher.AEAD
}

// GenerateKeyFile writes a new custody key to path (0600).
func GenerateKeyFile(path string) error {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return err
	}
	return entry.WriteSecretFile(path, []byte(hex.EncodeToString(k)+"\n"))
}

// Open reads the custody key file and returns a vault over st.
func Open(st store.Custody, keyFile string) (*Vault, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s: not a 32-byte hex key", keyFile)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Vault{store: st, aead: aead}, nil
}

// NewKey makes and stores a custodial key for member and returns it, for
// its public half to be registered.
func (v *Vault) NewKey(ctx context.Context, member string) (*entry.PrivateKey, error) {
	k, err := entry.GenerateKey(member)
	if err != nil {
		return nil, err
	}
	plain, err := entry.MarshalPrivateKey(k)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := v.aead.Seal(nonce, nonce, plain, binding(member, k.ID()))
	if err := v.store.PutCustodialKey(ctx, member, k.ID(), sealed); err != nil {
		return nil, err
	}
	return k, nil
}

// ErrNoKey is returned for key ids the vault does not hold.
var ErrNoKey = errors.New("no custodial key")

// Key decrypts the custodial key with the given id.
func (v *Vault) Key(ctx context.Context, keyID string) (*entry.PrivateKey, error) {
	member, sealed, err := v.store.CustodialKey(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, err
	}
	n := v.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("custodial key %s is damaged", keyID)
	}
	plain, err := v.aead.Open(nil, sealed[:n], sealed[n:], binding(member, keyID))
	if err != nil {
		return nil, fmt.Errorf("custodial key %s does not decrypt: %w", keyID, err)
	}
	k, err := entry.ParsePrivateKey(plain)
	if err != nil {
		return nil, err
	}
	if k.ID() != keyID || k.Member != member {
		return nil, fmt.Errorf("custodial key %s is not the key stored under its id", keyID)
	}
	return k, nil
}

// Seal encrypts another secret the server must keep readable (a webhook's
// signing secret, say) with the custody key, bound to what it belongs to:
// a ciphertext moved to another row does not open.
func (v *Vault) Seal(plain []byte, boundTo string) ([]byte, error) {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return v.aead.Seal(nonce, nonce, plain, []byte("secret\x00"+boundTo)), nil
}

// Open decrypts what Seal sealed for boundTo.
func (v *Vault) Open(sealed []byte, boundTo string) ([]byte, error) {
	n := v.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("the sealed secret is damaged")
	}
	return v.aead.Open(nil, sealed[:n], sealed[n:], []byte("secret\x00"+boundTo))
}

// binding is the additional data that ties a ciphertext to its row.
func binding(member, keyID string) []byte { return []byte(member + "\x00" + keyID) }
