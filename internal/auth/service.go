package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/limit"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/store"
)

// SessionTTL is how long a browser session lasts.
const SessionTTL = 12 * time.Hour

// Limits bound sign-in attempts.
type Limits struct {
	LoginFailures int           // failed sign-ins before a lock-out
	LoginWindow   time.Duration // in which they count
	Lockout       time.Duration // how long a member is locked out
	LoginRate     float64       // sign-ins a second from one address
	LoginBurst    int
}

// DefaultLimits: five failures in fifteen minutes lock a member out for
// fifteen; an address signs in at most ten times a minute.
func DefaultLimits() Limits {
	return Limits{LoginFailures: 5, LoginWindow: 15 * time.Minute, Lockout: 15 * time.Minute, LoginRate: 10.0 / 60, LoginBurst: 10}
}

// Service identifies who makes a request and keeps their credentials: it
// is the one place that turns a token or a session cookie into a
// policy.Viewer, for every surface.
type Service struct {
	creds   store.Credentials
	members func(id string) (truce.Member, bool)
	clock   func() time.Time
	limits  Limits
	log     *slog.Logger

	tokensMu sync.Mutex
	tokens   map[string]cachedToken

	loginAddr *limit.Keyed
	lockouts  *lockouts
}

// Config is what a Service works with.
type Config struct {
	Credentials store.Credentials
	// Members looks a member up as the committed log registers it.
	Members func(id string) (truce.Member, bool)
	Clock   func() time.Time // for expiries; default time.Now
	Limits  Limits           // zero: DefaultLimits
	Logger  *slog.Logger
}

// NewService returns the service.
func NewService(c Config) *Service {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{creds: c.Credentials, members: c.Members, clock: c.Clock, limits: c.Limits, log: c.Logger,
		tokens: map[string]cachedToken{}, loginAddr: limit.New(c.Limits.LoginRate, c.Limits.LoginBurst), lockouts: newLockouts()}
}

// cachedToken is a token looked up less than TokenCacheTTL ago.
type cachedToken struct {
	t  *store.Token
	at time.Time
}

// TokenCacheTTL bounds how long a token lookup is reused, and so how long a
// revocation made outside this process takes to bite.
const TokenCacheTTL = 5 * time.Second

// Identify resolves a request's credentials: bearer, the token of an
// Authorization: Bearer header, or else cookie, the session cookie's value.
// Neither is the anonymous viewer; bad credentials are an error, never
// silently anonymous. It also returns the session, if any.
func (s *Service) Identify(ctx context.Context, bearer, cookie string) (policy.Viewer, *store.Session, error) {
	if bearer != "" {
		t, err := s.lookupToken(ctx, HashToken(bearer))
		if errors.Is(err, store.ErrNotFound) {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "unknown token")
		}
		if err != nil {
			return policy.Viewer{}, nil, err
		}
		if t.Revoked {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "the token was revoked")
		}
		if !t.Expires.IsZero() && !s.clock().Before(t.Expires) {
			return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "the token expired at %s", t.Expires.UTC().Format(time.RFC3339))
		}
		m, err := s.member(t.Member)
		if err != nil {
			return policy.Viewer{}, nil, err
		}
		return policy.Viewer{Member: m, Scopes: t.Scopes, Expires: t.Expires}, nil, nil
	}
	if cookie == "" {
		return policy.Viewer{}, nil, nil
	}
	sess, err := s.creds.Session(ctx, HashToken(cookie))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.clock().Before(sess.Expires)) {
		return policy.Viewer{}, nil, truce.Errorf(truce.CodeUnauthorized, "the session has ended; sign in again")
	}
	if err != nil {
		return policy.Viewer{}, nil, err
	}
	m, err := s.member(sess.Member)
	if err != nil {
		return policy.Viewer{}, nil, err
	}
	return policy.Viewer{Member: m, Scopes: policy.AllScopes, Session: true}, sess, nil
}

// member returns a registered member, as the committed log has it.
func (s *Service) member(id string) (*truce.Member, error) {
	m, ok := s.members(id)
	if !ok {
		return nil, truce.Errorf(truce.CodeUnauthorized, "the credential's member is not registered")
	}
	return &m, nil
}

func (s *Service) lookupToken(ctx context.Context, hash []byte) (*store.Token, error) {
	key := string(hash)
	s.tokensMu.Lock()
	c, ok := s.tokens[key]
	s.tokensMu.Unlock()
	if ok && time.Since(c.at) < TokenCacheTTL {
		return c.t, nil
	}
	t, err := s.creds.Token(ctx, hash)
	if err != nil {
		return nil, err
	}
	s.tokensMu.Lock()
	if len(s.tokens) > 10000 {
		clear(s.tokens)
	}
	s.tokens[key] = cachedToken{t, time.Now()}
	s.tokensMu.Unlock()
	return t, nil
}

// RetryAfter is an error that says when to try again (a rate limit or a
// lock-out); surfaces send it as Retry-After.
type RetryAfter struct {
	Err   *truce.Error
	After time.Duration
}

func (e *RetryAfter) Error() string { return e.Err.Error() }

// Unwrap lets errors.As find the coded error.
func (e *RetryAfter) Unwrap() error { return e.Err }

// TooMany is the rate-limited error for what, with when to come back.
func TooMany(retry time.Duration, what string) error {
	return &RetryAfter{truce.Errorf(truce.CodeRateLimited, "too many requests %s; try again in %s", what, retry.Round(time.Second)+time.Second), retry}
}

// Seconds is the Retry-After value of err, if it has one.
func Seconds(err error) (string, bool) {
	var ra *RetryAfter
	if !errors.As(err, &ra) {
		return "", false
	}
	return strconv.Itoa(int(ra.After.Seconds()) + 1), true
}

// SignIn checks a member's password, throttled per member and per client
// address, and starts a session; it returns the session cookie's value.
// Invite gives a registered member a one-time link to set a password, in
// place of any earlier link; only an administrator may (policy.InviteMembers).
func (s *Service) Invite(ctx context.Context, v policy.Viewer, member string, ttl time.Duration) (string, error) {
	if err := policy.Check(v, policy.InviteMembers, policy.Options{}); err != nil {
		return "", err
	}
	m, ok := s.members(member)
	if !ok || m.Role == truce.RoleSystem {
		return "", truce.Errorf(truce.CodeNotFound, "no member %q", member)
	}
	return NewInvite(ctx, s.creds, m.ID, s.clock(), ttl)
}

// suspended is the password of a suspended member: no password opens it.
const suspended = "suspended"

// Suspend stops a member from using this server until a new enrolment
// link sets a password again: its password is withdrawn, its sessions end
// and its tokens are revoked (a server's token cache forgets them within
// TokenCacheTTL). Its keys stay in the log: what it signs elsewhere is
// judged by the rules, and its keys are revoked there (key.revoked).
func Suspend(ctx context.Context, creds store.Credentials, member string) (revoked int, err error) {
	if err := creds.PutPassword(ctx, member, suspended); err != nil {
		return 0, err
	}
	if err := creds.DeleteSessions(ctx, member); err != nil {
		return 0, err
	}
	// A link given earlier would set a password again: replace it with
	// one that has expired and whose token no one holds.
	dead := make([]byte, 32)
	rand.Read(dead)
	if err := creds.PutInvite(ctx, store.Invite{Hash: dead, Member: member, Created: time.Unix(0, 0), Expires: time.Unix(0, 0)}); err != nil {
		return 0, err
	}
	ts, err := creds.Tokens(ctx, member)
	if err != nil {
		return 0, err
	}
	for _, t := range ts {
		if !t.Revoked {
			t.Revoked = true
			if err := creds.PutToken(ctx, t); err != nil {
				return revoked, err
			}
			revoked++
		}
	}
	return revoked, nil
}

// Suspended reports whether a password is a suspended member's.
func Suspended(hash string) bool { return hash == suspended }

func (s *Service) SignIn(ctx context.Context, member, password, address string) (string, *store.Session, error) {
	if err := s.Confirm(ctx, member, password, address); err != nil {
		return "", nil, err
	}
	return NewSession(ctx, s.creds, member, s.clock(), SessionTTL)
}

// Confirm checks a member's password, as signing in does — the same
// limits per address, the same lock-outs — for a step that needs more
// than a session: adding a signing key.
func (s *Service) Confirm(ctx context.Context, member, password, address string) error {
	now := s.clock()
	if ok, wait := s.loginAddr.Allow(address); !ok {
		return TooMany(wait, "signing in from this address")
	}
	if locked, wait := s.lockouts.locked(member, now); locked {
		return TooMany(wait, "signing in as "+member+" after failed attempts")
	}
	hash, err := s.creds.Password(ctx, member)
	ok := false
	if err == nil && hash != suspended {
		ok, err = CheckPassword(hash, password)
	} else if err == nil || errors.Is(err, store.ErrNotFound) {
		CheckPassword(dummyHash, password) // take as long as for a real member
		err = nil
	}
	if err != nil {
		return err
	}
	if !ok {
		if s.lockouts.fail(member, now, s.limits) {
			s.log.Warn("sign-in locked out", "member", member, "address", address)
		}
		return truce.Errorf(truce.CodeUnauthorized, "wrong member or password")
	}
	s.lockouts.succeed(member)
	return nil
}

// dummyHash is checked against for unknown members, so that timing does
// not tell which members exist.
var dummyHash, _ = HashPassword("no such member")

// SignOut ends the session whose cookie this is.
func (s *Service) SignOut(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	return s.creds.DeleteSession(ctx, HashToken(cookie))
}

// NewToken is what a member asks of a new API token.
type NewToken struct {
	Name    string   `json:"name"`
	Scopes  []string `json:"scopes"`
	Expires string   `json:"expires"` // a duration such as 30d; empty: no expiry
}

// Issue makes a token for v with some of v's own scopes; the token is
// returned once and kept only hashed.
func (s *Service) Issue(ctx context.Context, v policy.Viewer, req NewToken) (string, *store.Token, error) {
	if err := policy.Check(v, policy.ManageTokens, policy.Options{}); err != nil {
		return "", nil, err
	}
	if len(req.Name) > 100 {
		return "", nil, truce.FieldErrorf(truce.CodeInvalid, "name", "at most 100 characters")
	}
	if len(req.Scopes) == 0 {
		return "", nil, truce.FieldErrorf(truce.CodeInvalid, "scopes", "name the scopes: read, write, manage")
	}
	for i, sc := range req.Scopes {
		// A token cannot do more than the credential that made it.
		if !slices.Contains(policy.AllScopes, sc) || !slices.Contains(v.Scopes, sc) {
			return "", nil, truce.FieldErrorf(truce.CodeInvalid, "scopes["+strconv.Itoa(i)+"]", "%q is not a scope you can grant", sc)
		}
	}
	var expires time.Time
	if req.Expires != "" {
		d, err := truce.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			return "", nil, truce.FieldErrorf(truce.CodeInvalid, "expires", "a duration such as 30d")
		}
		expires = s.clock().Add(time.Duration(d))
	}
	// A token cannot outlive the token that made it.
	if !v.Expires.IsZero() && (expires.IsZero() || expires.After(v.Expires)) {
		expires = v.Expires
	}
	return IssueToken(ctx, s.creds, TokenSpec{Member: v.Member.ID, Name: req.Name, Scopes: req.Scopes, Expires: expires}, s.clock())
}

// Tokens lists v's tokens; an administrator's with all set, everyone's.
func (s *Service) Tokens(ctx context.Context, v policy.Viewer, all bool) ([]store.Token, error) {
	if err := policy.Check(v, policy.ManageTokens, policy.Options{}); err != nil {
		return nil, err
	}
	member := v.Member.ID
	if all && v.Member.Role == truce.RoleAdmin {
		member = ""
	}
	return s.creds.Tokens(ctx, member)
}

// Revoke revokes one of v's tokens (an administrator: anyone's), at once
// in this process.
func (s *Service) Revoke(ctx context.Context, v policy.Viewer, id string) (*store.Token, error) {
	ts, err := s.Tokens(ctx, v, true)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID == id {
			t.Revoked = true
			if err := s.creds.PutToken(ctx, t); err != nil {
				return nil, err
			}
			s.tokensMu.Lock()
			delete(s.tokens, string(t.Hash))
			s.tokensMu.Unlock()
			return &t, nil
		}
	}
	return nil, truce.Errorf(truce.CodeNotFound, "you have no token %q", id)
}

// lockouts counts failed sign-ins per member.
type lockouts struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	until    map[string]time.Time
}

func newLockouts() *lockouts {
	return &lockouts{failures: map[string][]time.Time{}, until: map[string]time.Time{}}
}

// locked reports whether member is locked out, and for how long.
func (l *lockouts) locked(member string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.until[member]; ok && now.Before(u) {
		return true, u.Sub(now)
	}
	return false, 0
}

// fail records a failed sign-in and reports whether it locks member out.
func (l *lockouts) fail(member string, now time.Time, lim Limits) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var recent []time.Time
	for _, t := range l.failures[member] {
		if now.Sub(t) < lim.LoginWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	l.failures[member] = recent
	if len(recent) >= lim.LoginFailures {
		l.until[member] = now.Add(lim.Lockout)
		delete(l.failures, member)
		return true
	}
	return false
}

func (l *lockouts) succeed(member string) {
	l.mu.Lock()
	delete(l.failures, member)
	l.mu.Unlock()
}
