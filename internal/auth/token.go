// Package auth issues and checks the credentials members use to reach the
// API. Secrets are stored only hashed and never logged.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/truce-mvm/truce/internal/store"
)

// TokenPrefix starts every API token, so leaked tokens are easy to find.
const TokenPrefix = "truce_"

// HashToken returns the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// IssueToken makes a new API token for member, stores its hash, and
// returns the token, which is shown once and kept nowhere. A zero expires
// means no expiry.
func IssueToken(ctx context.Context, s store.Store, member string, now, expires time.Time) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	err := s.PutToken(ctx, store.Token{Hash: HashToken(tok), Member: member, Created: now, Expires: expires})
	if err != nil {
		return "", err
	}
	return tok, nil
}
