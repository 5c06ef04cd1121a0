package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/fetch"
	"github.com/truce-mvm/truce/internal/store"
)

// Delivery tunes the deliverer.
type Delivery struct {
	Workers     int           // sends at once (default 4)
	Timeout     time.Duration // one attempt (default 10 s)
	MinBackoff  time.Duration // after the first failure (default 30 s); doubling
	MaxBackoff  time.Duration // at most (default 1 h)
	MaxAttempts int           // then it is given up (default 10)
	Poll        time.Duration // how often the outbox is read when not nudged (default 1 s)
	Sweep       time.Duration // how often deadlines are looked at (default 1 min)
}

func (d Delivery) withDefaults() Delivery {
	if d.Workers <= 0 {
		d.Workers = 4
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	if d.MinBackoff <= 0 {
		d.MinBackoff = 30 * time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = time.Hour
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 10
	}
	if d.Poll <= 0 {
		d.Poll = time.Second
	}
	if d.Sweep <= 0 {
		d.Sweep = time.Minute
	}
	return d
}

// Backoff is how long to wait after the nth failed attempt: doubling from
// min up to max, with jitter (between half and all of it), so that
// receivers coming back are not hit by every sender at once.
func Backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// Body is what a webhook receives: which event, about which record, from
// which entry — ids only, so that even the body carries nothing but what
// the member may already read.
type Body struct {
	Event  string    `json:"event"`
	Record truce.Ref `json:"record"`
	Index  int64     `json:"index"`
	Logged time.Time `json:"logged"`
}

// SignatureHeader carries a webhook body's signature.
const SignatureHeader = "X-Truce-Signature"

// Sign is the signature header's value for body: "sha256=" and the hex
// HMAC-SHA256 of the body with the webhook's secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver sends what is due, a few at a time, until ctx ends.
func (n *Notifier) deliver(ctx context.Context) {
	cfg := n.cfg.Delivery
	client := &http.Client{Transport: fetch.Transport(n.cfg.AllowPrivate), Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }} // a redirect is not followed: it could lead inside
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, cfg.Workers)
	var busy inflight
	poll := time.NewTicker(cfg.Poll)
	defer poll.Stop()
	for {
		busy.settle()
		ds, err := n.cfg.Store.DueDeliveries(ctx, n.cfg.Clock(), 100)
		if err != nil && ctx.Err() == nil {
			n.log.Error("notifications: reading the outbox", "err", err)
		}
		for _, d := range ds {
			if !busy.claim(d.ID) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem; busy.finish(d.ID) }()
				n.attempt(ctx, client, d)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-poll.C:
		}
	}
}

// inflight is which deliveries are being attempted. An attempt that ends
// stays claimed until the next read of the outbox begins (settle): a read
// made while it was in flight still lists it as due, and must not send it
// a second time.
type inflight struct {
	mu       sync.Mutex
	busy     map[int64]bool
	finished []int64
}

// claim reports whether id was free, and takes it.
func (f *inflight) claim(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy[id] {
		return false
	}
	if f.busy == nil {
		f.busy = map[int64]bool{}
	}
	f.busy[id] = true
	return true
}

// finish marks id's attempt as recorded.
func (f *inflight) finish(id int64) {
	f.mu.Lock()
	f.finished = append(f.finished, id)
	f.mu.Unlock()
}

// settle frees what finished before a new read of the outbox.
func (f *inflight) settle() {
	f.mu.Lock()
	for _, id := range f.finished {
		delete(f.busy, id)
	}
	f.finished = f.finished[:0]
	f.mu.Unlock()
}

// errDrop is a delivery that can no longer be made: the member, its
// webhook or its right to read the record is gone.
var errDrop = errors.New("dropped")

// attempt makes one attempt at a delivery and records it.
func (n *Notifier) attempt(ctx context.Context, client *http.Client, d store.Delivery) {
	actx, cancel := context.WithTimeout(ctx, n.cfg.Delivery.Timeout)
	defer cancel()
	err := n.send(actx, client, d)
	if err != nil && ctx.Err() != nil {
		return // shutting down: the row stays due
	}
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err) // not the address: a receiver's may hold its secret
	}
	now := n.cfg.Clock()
	d.Attempts++
	switch {
	case err == nil:
		d.Done, d.Err = now, ""
	case errors.Is(err, errDrop) || d.Attempts >= n.cfg.Delivery.MaxAttempts:
		d.Failed, d.Err = true, err.Error()
		n.log.Warn("notifications: given up", "id", d.ID, "channel", d.Channel, "member", d.Member, "attempts", d.Attempts, "err", err)
	default:
		d.Next, d.Err = now.Add(Backoff(d.Attempts, n.cfg.Delivery.MinBackoff, n.cfg.Delivery.MaxBackoff)), err.Error()
		n.log.Info("notifications: will retry", "id", d.ID, "channel", d.Channel, "attempts", d.Attempts, "next", d.Next, "err", err)
	}
	if len(d.Err) > 500 {
		d.Err = d.Err[:500]
	}
	if err := n.cfg.Store.UpdateDelivery(context.WithoutCancel(ctx), d); err != nil {
		n.log.Error("notifications: recording a delivery", "id", d.ID, "err", err)
	}
}

// send makes one delivery, after checking again that its member may read
// the record (a visibility or a membership may have changed since it was
// queued).
func (n *Notifier) send(ctx context.Context, client *http.Client, d store.Delivery) error {
	rec, ok, err := n.sees(ctx, d.Member, d.Record)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s may not read %s %s now", errDrop, d.Member, d.Record.Type, d.Record.ID)
	}
	switch d.Channel {
	case ChannelWebhook:
		return n.post(ctx, client, d)
	case ChannelEmail:
		if n.cfg.Mail == nil {
			return fmt.Errorf("%w: no SMTP server", errDrop)
		}
		return n.cfg.Mail.Send(ctx, d.Target, message(d, rec, n.cfg.BaseURL, n.cfg.Mail.From))
	}
	return fmt.Errorf("%w: channel %q", errDrop, d.Channel)
}

// post POSTs a webhook's body, signed.
func (n *Notifier) post(ctx context.Context, client *http.Client, d store.Delivery) error {
	w, err := n.cfg.Store.Webhook(ctx, d.Target)
	if errors.Is(err, store.ErrNotFound) || err == nil && w.Member != d.Member {
		return fmt.Errorf("%w: the webhook was deleted", errDrop)
	}
	if err != nil {
		return err
	}
	secret, err := n.cfg.Vault.Open(w.Secret, w.ID)
	if err != nil {
		return fmt.Errorf("%w: the webhook's secret does not open: %v", errDrop, err)
	}
	body, err := json.Marshal(Body{Event: d.Event, Record: d.Record, Index: d.Index, Logged: d.Logged})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errDrop, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Truce-Webhook/1")
	req.Header.Set(SignatureHeader, Sign(body, string(secret)))
	req.Header.Set("X-Truce-Delivery", fmt.Sprint(d.ID))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}
