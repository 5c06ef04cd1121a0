package notify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
)

// Notifier follows the log and delivers what it decides.
type Notifier struct {
	*Service
	log  *slog.Logger
	wake chan struct{} // something was queued
}

// New returns a Notifier; Run starts it.
func New(cfg Config, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Delivery = cfg.Delivery.withDefaults()
	return &Notifier{Service: NewService(cfg), log: log, wake: make(chan struct{}, 1)}
}

// page is how many entries one step of following reads.
const page = 200

// Run follows the log and delivers until ctx ends. It reads only what is
// committed, after the sequencer has published it, and writes only the
// outbox: the log is never waited on nor held.
func (n *Notifier) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() { defer close(done); n.deliver(ctx) }()
	defer func() { <-done }()
	sweep := time.NewTicker(n.cfg.Delivery.Sweep)
	defer sweep.Stop()
	n.sweep(ctx)
	for {
		size, next := n.cfg.Follow()
		if err := n.catchUp(ctx, size); err != nil && ctx.Err() == nil {
			n.log.Error("notifications: following the log", "err", err)
			next = nil // try again shortly
		}
		var retry <-chan time.Time
		if next == nil {
			retry = time.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-next:
		case <-retry:
		case <-sweep.C:
			n.sweep(ctx)
		}
	}
}

// catchUp decides the events of the entries from the cursor to size.
func (n *Notifier) catchUp(ctx context.Context, size int64) error {
	cursor, err := n.cfg.Store.NoticeCursor(ctx)
	if err != nil {
		return err
	}
	for cursor < size {
		targets, err := n.targets(ctx)
		if err != nil {
			return err
		}
		if len(targets.subs) == 0 && len(targets.hooks) == 0 {
			// Nobody to tell (an instance that never had notifications, say,
			// with a long log): skip to the end rather than read it all.
			return n.cfg.Store.Enqueue(ctx, nil, size)
		}
		items, err := n.cfg.Store.HistoryFrom(ctx, cursor, page)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		var out []store.Delivery
		for _, h := range items {
			ds, err := n.decide(ctx, targets, h)
			if err != nil {
				return err
			}
			out = append(out, ds...)
		}
		cursor = items[len(items)-1].Index + 1
		if err := n.cfg.Store.Enqueue(ctx, out, cursor); err != nil {
			return err
		}
		if len(out) > 0 {
			n.nudge()
		}
	}
	return nil
}

func (n *Notifier) nudge() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// targets are the members who asked for anything, and where.
type targets struct {
	subs  []store.Subscription
	hooks []store.Webhook
}

func (n *Notifier) targets(ctx context.Context) (*targets, error) {
	subs, err := n.cfg.Store.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	hooks, err := n.cfg.Store.Webhooks(ctx, "")
	return &targets{subs: subs, hooks: hooks}, err
}

// event is what an entry (or a deadline) means for the record it touched.
type event struct {
	name   string
	rec    *truce.Record
	index  int64
	logged time.Time
}

// events decides what an entry's history item on a record means.
func (n *Notifier) events(ctx context.Context, h truce.HistoryItem) ([]event, error) {
	rec, err := n.cfg.Store.Record(ctx, h.Type, h.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	logged, _ := time.Parse(time.RFC3339Nano, h.Logged)
	ev := func(name string) []event { return []event{{name: name, rec: rec, index: h.Index, logged: logged}} }
	switch {
	case h.Type == rules.TypeAllegation && h.Kind == rules.KindAllegationFiled:
		return ev(AllegationFiledAgainst), nil
	case h.Type == rules.TypeFinding && h.Kind == rules.KindFindingSigned && rec.Status == truce.FindingInEffect:
		// Only the signature that put it in effect, its last (a finding in
		// effect takes no more): the notifier may read the record after
		// every signature was logged.
		var f truce.Finding
		if json.Unmarshal(rec.Doc, &f) == nil && len(f.Signatures) > 0 && f.Signatures[len(f.Signatures)-1].Index == h.Index {
			return ev(FindingInEffect), nil
		}
	case h.Type == rules.TypeFinding && h.Kind == rules.KindFindingObjected:
		return ev(FindingObjected), nil
	case h.Type == rules.TypeConsequence && rec.Created == h.Index:
		return ev(ConsequenceApplied), nil
	}
	return nil, nil
}

// decide queues what an entry's history item means for every target.
func (n *Notifier) decide(ctx context.Context, t *targets, h truce.HistoryItem) ([]store.Delivery, error) {
	evs, err := n.events(ctx, h)
	if err != nil {
		return nil, err
	}
	var out []store.Delivery
	for _, e := range evs {
		ds, err := n.deliveries(ctx, t, e)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// concerns reports whether an event about rec is one for member m:
// members of a party hear of what concerns their party, the mechanism's
// of everything of the kind. Visibility is checked after, as a read.
func concerns(m truce.Member, name string, rec *truce.Record) bool {
	mech := policy.IsMechanism(m.Role)
	party := !mech && m.Role != truce.RolePublic && m.Party != ""
	switch name {
	case AllegationFiledAgainst, ReplyDue:
		return party && rec.Against == m.Party
	case AdmissionDue:
		return mech
	}
	return mech || party && (rec.Against == m.Party || rec.Party == m.Party)
}

// deliveries are the deliveries of one event to every target that asked
// for it, concerns and may read the record.
func (n *Notifier) deliveries(ctx context.Context, t *targets, e event) ([]store.Delivery, error) {
	ref := truce.Ref{Type: e.rec.Type, ID: e.rec.ID}
	base := store.Delivery{Event: e.name, Record: ref, Index: e.index, Logged: e.logged, Next: n.cfg.Clock()}
	allowed := map[string]bool{} // member → concerned and may read
	ok := func(member string) (bool, error) {
		if v, seen := allowed[member]; seen {
			return v, nil
		}
		m, found := n.cfg.Members(member)
		v := found && concerns(m, e.name, e.rec)
		if v {
			var err error
			if _, v, err = n.sees(ctx, member, ref); err != nil {
				return false, err
			}
		}
		allowed[member] = v
		return v, nil
	}
	var out []store.Delivery
	for _, s := range t.subs {
		if !slices.Contains(s.Events, e.name) {
			continue
		}
		if yes, err := ok(s.Member); err != nil || !yes {
			if err != nil {
				return nil, err
			}
			continue
		}
		if s.Email != "" && n.cfg.Mail != nil {
			d := base
			d.Member, d.Channel, d.Target = s.Member, ChannelEmail, s.Email
			out = append(out, d)
		}
		if len(s.FeedHash) > 0 {
			d := base
			d.Member, d.Channel, d.Done = s.Member, ChannelFeed, n.cfg.Clock()
			out = append(out, d)
		}
	}
	for _, w := range t.hooks {
		if !slices.Contains(w.Events, e.name) {
			continue
		}
		if yes, err := ok(w.Member); err != nil || !yes {
			if err != nil {
				return nil, err
			}
			continue
		}
		d := base
		d.Member, d.Channel, d.Target = w.Member, ChannelWebhook, w.ID
		out = append(out, d)
	}
	return out, nil
}

// sweep queues the .due events of deadlines within each member's lead
// hours, by the notifier's clock (the rules keep log time; a reminder
// is not an entry).
func (n *Notifier) sweep(ctx context.Context) {
	if err := n.sweepDue(ctx); err != nil && ctx.Err() == nil {
		n.log.Error("notifications: deadlines", "err", err)
	}
}

// dueLimit bounds the records one sweep reads of each kind.
const dueLimit = 1000

func (n *Notifier) sweepDue(ctx context.Context) error {
	t, err := n.targets(ctx)
	if err != nil {
		return err
	}
	hours := 0
	for _, s := range t.subs {
		hours = max(hours, s.Hours)
	}
	for _, w := range t.hooks {
		if s := t.sub(w.Member); s == nil {
			hours = max(hours, DefaultHours)
		}
	}
	if hours == 0 {
		return nil
	}
	now := n.cfg.Clock()
	var out []store.Delivery
	for _, q := range []struct {
		typ, status string
	}{{rules.TypeAllegation, truce.AllegationFiled}, {rules.TypeAllegation, truce.AllegationAdmitted}, {rules.TypeConsequence, truce.ConsequenceOpen}} {
		recs, err := n.cfg.Store.Records(ctx, truce.Query{Type: q.typ, Status: q.status, Limit: dueLimit, Access: truce.Everything})
		if err != nil {
			return err
		}
		for i := range recs {
			for _, d := range deadlines(&recs[i]) {
				if d.due.Before(now) || d.due.After(now.Add(time.Duration(hours)*time.Hour)) {
					continue
				}
				ds, err := n.deliveries(ctx, t.within(d.due.Sub(now)), event{name: d.event, rec: &recs[i], index: 0, logged: now})
				if err != nil {
					return err
				}
				out = append(out, ds...)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	cursor, err := n.cfg.Store.NoticeCursor(ctx)
	if err != nil {
		return err
	}
	if err := n.cfg.Store.Enqueue(ctx, out, cursor); err != nil {
		return err
	}
	n.nudge()
	return nil
}

func (t *targets) sub(member string) *store.Subscription {
	for i := range t.subs {
		if t.subs[i].Member == member {
			return &t.subs[i]
		}
	}
	return nil
}

// within keeps the targets whose members' lead hours reach left (a
// webhook's member without settings: DefaultHours).
func (t *targets) within(left time.Duration) *targets {
	reach := func(member string) bool {
		h := DefaultHours
		if s := t.sub(member); s != nil {
			h = s.Hours
		}
		return left <= time.Duration(h)*time.Hour
	}
	out := &targets{}
	for _, s := range t.subs {
		if reach(s.Member) {
			out.subs = append(out.subs, s)
		}
	}
	for _, w := range t.hooks {
		if reach(w.Member) {
			out.hooks = append(out.hooks, w)
		}
	}
	return out
}

type deadline struct {
	event string
	due   time.Time
}

// deadlines are the pending deadlines a record's document carries.
func deadlines(rec *truce.Record) []deadline {
	var out []deadline
	switch rec.Type {
	case rules.TypeAllegation:
		var a truce.Allegation
		if json.Unmarshal(rec.Doc, &a) != nil {
			return nil
		}
		if a.Notice != nil && a.Reply == nil && !a.Notice.Reply.Met && !a.Notice.Reply.Overdue {
			out = append(out, deadline{ReplyDue, a.Notice.Reply.Due})
		}
		if a.Status == truce.AllegationFiled && !a.Admission.Met && !a.Admission.Overdue {
			out = append(out, deadline{AdmissionDue, a.Admission.Due})
		}
	case rules.TypeConsequence:
		var c truce.Consequence
		if json.Unmarshal(rec.Doc, &c) == nil && !c.Deadline.Met && !c.Deadline.Overdue {
			out = append(out, deadline{ConsequenceDue, c.Deadline.Due})
		}
	}
	return out
}
