package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
)

// InviteTTL is how long an enrolment or reset link works by default.
const InviteTTL = 72 * time.Hour

// NewInvite makes a one-time link token for member to set a password, to
// enrol or after forgetting one; only its hash is stored. The token is
// shown once.
func NewInvite(ctx context.Context, creds store.Credentials, member string, now time.Time, ttl time.Duration) (string, error) {
	tok := random()
	if err := creds.PutInvite(ctx, store.Invite{Hash: HashToken(tok), Member: member, Created: now, Expires: now.Add(ttl)}); err != nil {
		return "", err
	}
	return tok, nil
}

// ErrInvite refuses a link that is unknown, used or expired, without
// saying which.
var ErrInvite = truce.Errorf(truce.CodeNotFound, "this link is not valid: it was used, it expired, or it was never given; ask the secretariat for a new one")

// Invited returns the member a link is for, without using it up.
func (s *Service) Invited(ctx context.Context, token string) (string, error) {
	i, err := s.creds.Invite(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && !s.clock().Before(i.Expires) {
		return "", ErrInvite
	}
	if err != nil {
		return "", err
	}
	return i.Member, nil
}

// Enrol uses a link once: it sets the member's password, which must be
// strong enough, and starts a session. It returns the session cookie's
// value.
func (s *Service) Enrol(ctx context.Context, token, password string) (string, *store.Session, error) {
	member, err := s.Invited(ctx, token)
	if err != nil {
		return "", nil, err
	}
	if err := CheckStrength(member, password); err != nil {
		return "", nil, err // the link stays usable: the member tries another password
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", nil, err
	}
	i, err := s.creds.TakeInvite(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrInvite // used meanwhile
	}
	if err != nil {
		return "", nil, err
	}
	if err := s.creds.PutPassword(ctx, i.Member, hash); err != nil {
		return "", nil, err
	}
	// A reset ends every session begun with the old password.
	if err := s.creds.DeleteSessions(ctx, i.Member); err != nil {
		return "", nil, err
	}
	s.lockouts.succeed(i.Member)
	return NewSession(ctx, s.creds, i.Member, s.clock(), SessionTTL)
}

// MinPasswordLength is the fewest characters a password may have.
const MinPasswordLength = 12

// common are passwords people choose first.
var common = []string{"password", "123456", "qwerty", "letmein", "welcome", "truce", "ceasefire", "pakistan", "afghanistan", "admin", "iloveyou"}

// CheckStrength refuses a password that is easy to guess: shorter than
// MinPasswordLength characters, of fewer than five different characters,
// containing the member's id, or built on a common password.
func CheckStrength(member, password string) error {
	weak := func(why string) error { return truce.FieldErrorf(truce.CodeInvalid, "password", "%s", why) }
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return weak("use at least 12 characters; a few unrelated words make a strong one")
	}
	if len(password) > 1024 || !utf8.ValidString(password) {
		return weak("use at most 1024 bytes of text")
	}
	var distinct []rune
	for _, r := range password {
		if !slices.Contains(distinct, r) {
			distinct = append(distinct, r)
		}
	}
	if len(distinct) < 5 {
		return weak("use more different characters")
	}
	lower := strings.ToLower(password)
	if member != "" && strings.Contains(lower, strings.ToLower(member)) {
		return weak("do not put your member id in your password")
	}
	// What is left once common words, repetitions and runs (abcd, 4321)
	// are taken out must still be long.
	rest := lower
	for _, c := range common {
		rest = strings.ReplaceAll(rest, c, "")
	}
	if utf8.RuneCountInString(squeeze(rest)) < 8 {
		return weak("do not build your password on a common one, a repetition or a run of characters")
	}
	return nil
}

// squeeze drops from s the characters that follow on from the one before:
// the same, one up, or one down, and a repetition of what came before.
func squeeze(s string) string {
	var out []rune
	prev := rune(-2)
	for _, r := range s {
		if r == prev || r == prev+1 || r == prev-1 {
			prev = r
			continue
		}
		out = append(out, r)
		prev = r
	}
	// A string that is a shorter one repeated counts once.
	for n := 1; n <= len(out)/2; n++ {
		if len(out)%n == 0 && strings.Repeat(string(out[:n]), len(out)/n) == string(out) {
			return string(out[:n])
		}
	}
	return string(out)
}
