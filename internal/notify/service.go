package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/fetch"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/store"
)

// Config is what notifications are kept in, checked with and sent by.
type Config struct {
	Store store.Store
	Read  *read.Service
	Vault *custody.Vault // seals webhook secrets
	// Members looks up a member as the committed log has it.
	Members func(id string) (truce.Member, bool)
	// Follow returns the size of the newest committed checkpoint and a
	// channel closed when a newer one is published (nil before the first).
	Follow func() (size int64, next <-chan struct{})
	// AllowPrivate lets webhooks reach loopback, private and link-local
	// addresses: an exercise instance's, not a real one's.
	AllowPrivate bool
	// BaseURL is the instance's public address, for links in e-mails and
	// feeds (no trailing slash).
	BaseURL string
	// Mail sends e-mail; nil: no e-mail is sent or queued.
	Mail   *Mailer
	Policy policy.Options
	Clock  func() time.Time
	// Delivery tunes the deliverer; zero fields take the defaults.
	Delivery Delivery
}

// Service is what the surfaces call: a member's choices, webhooks, feed.
type Service struct {
	cfg Config
	// resolve looks a webhook's host up at registration.
	resolve func(ctx context.Context, host string) ([]net.IP, error)
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{cfg: cfg, resolve: func(ctx context.Context, host string) ([]net.IP, error) {
		return net.DefaultResolver.LookupIP(ctx, "ip", host)
	}}
}

func (s *Service) check(v policy.Viewer) error {
	return policy.Check(v, policy.ManageNotifications, s.cfg.Policy)
}

// Settings are what a member chose to be told and where.
type Settings struct {
	Email  string   `json:"email"`
	Events []string `json:"events"`
	Hours  int      `json:"hours"`
	// Feed says the member has a feed token (shown only when made).
	Feed bool `json:"feed"`
}

// Settings reads v's settings (empty if none were set).
func (s *Service) Settings(ctx context.Context, v policy.Viewer) (*Settings, error) {
	if err := s.check(v); err != nil {
		return nil, err
	}
	sub, err := s.cfg.Store.Subscription(ctx, v.Member.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &Settings{Events: []string{}, Hours: DefaultHours}, nil
	}
	if err != nil {
		return nil, err
	}
	return &Settings{Email: sub.Email, Events: append([]string{}, sub.Events...), Hours: sub.Hours, Feed: len(sub.FeedHash) > 0}, nil
}

// MaxHours bounds the lead time of the .due events.
const MaxHours = 24 * 30

// PutSettings sets v's e-mail address, events and lead hours, keeping its
// feed token.
func (s *Service) PutSettings(ctx context.Context, v policy.Viewer, in Settings) (*Settings, error) {
	if err := s.check(v); err != nil {
		return nil, err
	}
	if err := checkEmail(in.Email); err != nil {
		return nil, err
	}
	if e, ok := known(in.Events); !ok {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "events", "no event %q: the events are %s", e, strings.Join(Events, ", "))
	}
	if in.Hours == 0 {
		in.Hours = DefaultHours
	}
	if in.Hours < 1 || in.Hours > MaxHours {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "hours", "must be 1 to %d", MaxHours)
	}
	sub := store.Subscription{Member: v.Member.ID, Email: in.Email, Events: dedupe(in.Events), Hours: in.Hours, Updated: s.cfg.Clock()}
	if old, err := s.cfg.Store.Subscription(ctx, v.Member.ID); err == nil {
		sub.FeedHash = old.FeedHash
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.cfg.Store.PutSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return &Settings{Email: sub.Email, Events: sub.Events, Hours: sub.Hours, Feed: len(sub.FeedHash) > 0}, nil
}

// SetEmail sets a member's e-mail address ("" for none) in the store
// alone, keeping the rest of its settings: for an administrator's command
// beside a running server.
func SetEmail(ctx context.Context, st store.Notices, member, email string, now time.Time) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	sub, err := st.Subscription(ctx, member)
	if errors.Is(err, store.ErrNotFound) {
		sub, err = &store.Subscription{Member: member, Events: []string{}, Hours: DefaultHours}, nil
	}
	if err != nil {
		return err
	}
	sub.Email, sub.Updated = email, now
	return st.PutSubscription(ctx, *sub)
}

// checkEmail accepts "" (no e-mail) or one bare address.
func checkEmail(a string) error {
	if a == "" {
		return nil
	}
	p, err := mail.ParseAddress(a)
	if err != nil || p.Address != a || p.Name != "" || len(a) > 254 || strings.ContainsAny(a, "\r\n") {
		return truce.FieldErrorf(truce.CodeInvalid, "email", "is not one e-mail address (name@example.org)")
	}
	return nil
}

func dedupe(es []string) []string {
	out := []string{}
	for _, e := range es {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// FeedPath is where a feed token's feed is served.
func FeedPath(token string) string { return "/feeds/" + token + ".atom" }

// NewFeedToken makes v a new feed token in place of any earlier one
// (which stops working) and returns it: shown once, only its hash kept.
func (s *Service) NewFeedToken(ctx context.Context, v policy.Viewer) (string, error) {
	if err := s.check(v); err != nil {
		return "", err
	}
	sub, err := s.cfg.Store.Subscription(ctx, v.Member.ID)
	if errors.Is(err, store.ErrNotFound) {
		sub, err = &store.Subscription{Member: v.Member.ID, Events: []string{}, Hours: DefaultHours}, nil
	}
	if err != nil {
		return "", err
	}
	token := "tf_" + random()
	sub.FeedHash, sub.Updated = hashToken(token), s.cfg.Clock()
	return token, s.cfg.Store.PutSubscription(ctx, *sub)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// random is 32 random bytes, URL-safe.
func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Webhook describes a webhook; Secret only in the answer that made it.
type Webhook struct {
	ID      string    `json:"id"`
	URL     string    `json:"url"`
	Events  []string  `json:"events"`
	Created time.Time `json:"created"`
	Secret  string    `json:"secret,omitempty"`
}

// NewWebhook is the body of a webhook's registration.
type NewWebhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// MaxWebhooks bounds a member's webhooks.
const MaxWebhooks = 10

// CreateWebhook registers a webhook for v and returns it with its secret,
// which is not shown again.
func (s *Service) CreateWebhook(ctx context.Context, v policy.Viewer, in NewWebhook) (*Webhook, error) {
	if err := s.check(v); err != nil {
		return nil, err
	}
	u, err := ParseURL(in.URL)
	if err != nil {
		return nil, err
	}
	if len(in.Events) == 0 {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "events", "name at least one of %s", strings.Join(Events, ", "))
	}
	if e, ok := known(in.Events); !ok {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "events", "no event %q: the events are %s", e, strings.Join(Events, ", "))
	}
	if !s.cfg.AllowPrivate {
		if err := s.public(ctx, u.Hostname()); err != nil {
			return nil, err
		}
	}
	have, err := s.cfg.Store.Webhooks(ctx, v.Member.ID)
	if err != nil {
		return nil, err
	}
	if len(have) >= MaxWebhooks {
		return nil, truce.Errorf(truce.CodeConflict, "a member has at most %d webhooks; delete one first", MaxWebhooks)
	}
	id := "wh_" + random()[:16]
	secret := random()
	sealed, err := s.cfg.Vault.Seal([]byte(secret), id)
	if err != nil {
		return nil, err
	}
	w := store.Webhook{ID: id, Member: v.Member.ID, URL: u.String(), Events: dedupe(in.Events), Secret: sealed, Created: s.cfg.Clock()}
	if err := s.cfg.Store.PutWebhook(ctx, w); err != nil {
		return nil, err
	}
	out := webhookInfo(w)
	out.Secret = secret
	return &out, nil
}

// public refuses a host that is, or resolves to, a private address. The
// deliverer checks again at every connection (fetch.Transport), against a
// name re-pointed after registration.
func (s *Service) public(ctx context.Context, host string) error {
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		var err error
		if ips, err = s.resolve(ctx, host); err != nil || len(ips) == 0 {
			return truce.FieldErrorf(truce.CodeInvalid, "url", "the host %q does not resolve", host)
		}
	}
	for _, ip := range ips {
		if fetch.Private(ip) {
			return truce.FieldErrorf(truce.CodeInvalid, "url", "%s is a private address (loopback, private or link-local): this instance does not deliver to private addresses", ip)
		}
	}
	return nil
}

// ParseURL checks a webhook's address: absolute http or https, a host,
// no credentials, no fragment, at most 2,000 bytes.
func ParseURL(raw string) (*url.URL, error) {
	bad := func(why string) error { return truce.FieldErrorf(truce.CodeInvalid, "url", "%s", why) }
	if raw == "" {
		return nil, bad("give the address to POST notifications to")
	}
	if len(raw) > 2000 {
		return nil, bad("is longer than 2,000 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("is not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("must be http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return nil, bad("must name a host")
	case u.User != nil:
		return nil, bad("must not carry credentials: the signature authenticates the server")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, bad("must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return nil, bad("has a bad port")
		}
	}
	return u, nil
}

func webhookInfo(w store.Webhook) Webhook {
	return Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Created: w.Created}
}

// Webhooks lists v's webhooks, without their secrets.
func (s *Service) Webhooks(ctx context.Context, v policy.Viewer) ([]Webhook, error) {
	if err := s.check(v); err != nil {
		return nil, err
	}
	ws, err := s.cfg.Store.Webhooks(ctx, v.Member.ID)
	if err != nil {
		return nil, err
	}
	out := []Webhook{}
	for _, w := range ws {
		out = append(out, webhookInfo(w))
	}
	return out, nil
}

// DeleteWebhook deletes one of v's webhooks; another's is not found.
func (s *Service) DeleteWebhook(ctx context.Context, v policy.Viewer, id string) error {
	if err := s.check(v); err != nil {
		return err
	}
	err := s.cfg.Store.DeleteWebhook(ctx, v.Member.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return truce.Errorf(truce.CodeNotFound, "no webhook %q", id)
	}
	return err
}

// viewer is how a member reads: what a notification for it may carry is
// what a read by it would show.
func (s *Service) viewer(member string) (policy.Viewer, bool) {
	m, ok := s.cfg.Members(member)
	if !ok || m.Role == truce.RoleSystem {
		return policy.Viewer{}, false
	}
	return policy.Viewer{Member: &m, Scopes: []string{policy.ScopeRead}}, true
}

// sees reports whether member may read a record now.
func (s *Service) sees(ctx context.Context, member string, ref truce.Ref) (*truce.Record, bool, error) {
	v, ok := s.viewer(member)
	if !ok {
		return nil, false, nil
	}
	if pw, err := s.cfg.Store.Password(ctx, member); err == nil && auth.Suspended(pw) {
		return nil, false, nil // suspended from this server: told nothing
	}
	rec, _, err := s.cfg.Read.Get(ctx, v, ref.Type, ref.ID)
	if err == nil {
		return rec, true, nil
	}
	switch truce.ErrorCode(err) {
	case truce.CodeNotFound, truce.CodeForbidden, truce.CodeUnauthorized:
		return nil, false, nil
	}
	return nil, false, err
}
