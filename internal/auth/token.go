// Package auth issues and checks the credentials members use to reach the
// API. Secrets are stored only hashed and never logged.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// TokenSpec says what a new token is for.
type TokenSpec struct {
	Member  string
	Name    string
	Scopes  []string // default: read and write
	Expires time.Time
}

// IssueToken makes a new API token, stores its hash, and returns the
// token, which is shown once and kept nowhere, with its stored record.
func IssueToken(ctx context.Context, s store.Credentials, spec TokenSpec, now time.Time) (string, *store.Token, error) {
	tok := TokenPrefix + random()
	h := HashToken(tok)
	t := store.Token{Hash: h, ID: hex.EncodeToString(h[:6]), Name: spec.Name, Member: spec.Member,
		Scopes: spec.Scopes, Created: now, Expires: spec.Expires}
	if len(t.Scopes) == 0 {
		t.Scopes = []string{"read", "write"}
	}
	if err := s.PutToken(ctx, t); err != nil {
		return "", nil, err
	}
	return tok, &t, nil
}

// random returns 32 random bytes, base64url.
func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SessionCookie names the browser session cookie.
const SessionCookie = "truce_session"

// NewSession starts a browser session for member: it stores the session
// and returns the cookie value, shown once.
func NewSession(ctx context.Context, s store.Credentials, member string, now time.Time, ttl time.Duration) (string, *store.Session, error) {
	cookie := random()
	sess := store.Session{Hash: HashToken(cookie), Member: member, CSRF: random(), Created: now, Expires: now.Add(ttl)}
	if err := s.PutSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return cookie, &sess, nil
}
