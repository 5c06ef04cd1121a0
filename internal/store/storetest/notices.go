package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/store"
)

// Notices is the suite of store.Notices: subscriptions, webhooks, and an
// outbox that queues a notification once however often it is offered.
func Notices(t *testing.T, open Opener) {
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open(t)) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, open(t)) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open(t)) })
}

// testHistoryFrom checks that the notifier reads the history by entry,
// from an index on, an entry's items never split between two pages.
func testHistoryFrom(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newLogWriter(t, s)
	var hist []truce.HistoryItem
	var recs []truce.Record
	for i := range 4 {
		for _, typ := range []string{"allegation", "case"} {
			id := fmt.Sprintf("X-%d", i)
			recs = append(recs, truce.Record{Type: typ, ID: id, Visibility: truce.Public, Created: int64(i), Updated: int64(i), Doc: []byte("{}")})
			hist = append(hist, truce.HistoryItem{Type: typ, ID: id, Index: int64(i), Kind: "k", Author: "a", Logged: "2026-11-01T00:00:00Z"})
		}
	}
	b, _ := w.batch(4, recs, hist)
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.HistoryFrom(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int64
	for _, h := range got {
		idx = append(idx, h.Index)
	}
	if !slices.Equal(idx, []int64{1, 1, 2, 2}) || got[0].Type != "allegation" || got[1].Type != "case" {
		t.Fatalf("HistoryFrom(1, 2) = %v", got)
	}
	if got, err := s.HistoryFrom(ctx, 4, 10); err != nil || len(got) != 0 {
		t.Fatalf("HistoryFrom past the end = %v, %v", got, err)
	}
}

func testSubscriptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Subscription(ctx, "af-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a subscription never stored: %v", err)
	}
	if _, err := s.FeedSubscription(ctx, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no feed hash finds a subscription: %v", err)
	}
	a := store.Subscription{Member: "af-1", Email: "af@example.org", Events: []string{"x.y", "z.w"}, Hours: 12, FeedHash: []byte("feed-af"), Updated: now}
	b := store.Subscription{Member: "pk-1", Events: []string{"x.y"}, Updated: now}
	for _, sub := range []store.Subscription{a, b} {
		if err := s.PutSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Subscription(ctx, "af-1")
	if err != nil || got.Email != a.Email || !slices.Equal(got.Events, a.Events) || got.Hours != 12 || string(got.FeedHash) != "feed-af" || !got.Updated.Equal(now) {
		t.Fatalf("Subscription = %+v, %v", got, err)
	}
	if got, err := s.FeedSubscription(ctx, []byte("feed-af")); err != nil || got.Member != "af-1" {
		t.Fatalf("FeedSubscription = %+v, %v", got, err)
	}
	// Two members without a feed do not collide; a new one replaces the old.
	a.FeedHash, a.Email = nil, ""
	if err := s.PutSubscription(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FeedSubscription(ctx, []byte("feed-af")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a replaced feed token still finds its member: %v", err)
	}
	all, err := s.Subscriptions(ctx)
	if err != nil || len(all) != 2 || all[0].Member != "af-1" || all[0].Email != "" || all[1].Member != "pk-1" {
		t.Fatalf("Subscriptions = %+v, %v", all, err)
	}
}

func testWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	hooks := []store.Webhook{
		{ID: "wh1", Member: "af-1", URL: "https://a.example/h", Events: []string{"e1"}, Secret: []byte("s1"), Created: now},
		{ID: "wh2", Member: "pk-1", URL: "https://b.example/h", Events: []string{"e1", "e2"}, Secret: []byte("s2"), Created: now.Add(time.Second)},
	}
	for _, h := range hooks {
		if err := s.PutWebhook(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutWebhook(ctx, hooks[0]); err == nil {
		t.Fatal("a second webhook with the same id was stored")
	}
	got, err := s.Webhook(ctx, "wh2")
	if err != nil || got.Member != "pk-1" || got.URL != hooks[1].URL || !slices.Equal(got.Events, hooks[1].Events) || string(got.Secret) != "s2" || !got.Created.Equal(hooks[1].Created) {
		t.Fatalf("Webhook = %+v, %v", got, err)
	}
	if l, err := s.Webhooks(ctx, "af-1"); err != nil || len(l) != 1 || l[0].ID != "wh1" {
		t.Fatalf("Webhooks(af-1) = %+v, %v", l, err)
	}
	if l, err := s.Webhooks(ctx, ""); err != nil || len(l) != 2 || l[0].ID != "wh1" {
		t.Fatalf("Webhooks() = %+v, %v", l, err)
	}
	// A member deletes only its own, and its pending deliveries go with it.
	if err := s.DeleteWebhook(ctx, "af-1", "wh2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting another member's webhook: %v", err)
	}
	d := store.Delivery{Event: "e2", Record: truce.Ref{Type: "allegation", ID: "AL-1"}, Index: 3, Logged: now, Member: "pk-1", Channel: "webhook", Target: "wh2", Next: now}
	if err := s.Enqueue(ctx, []store.Delivery{d}, 4); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, "pk-1", "wh2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook(ctx, "wh2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted webhook: %v", err)
	}
	if due, err := s.DueDeliveries(ctx, now, 10); err != nil || len(due) != 0 {
		t.Fatalf("a deleted webhook's deliveries are still due: %+v, %v", due, err)
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if c, err := s.NoticeCursor(ctx); err != nil || c != 0 {
		t.Fatalf("a new store's cursor = %d, %v", c, err)
	}
	rec := truce.Ref{Type: "allegation", ID: "AL-1"}
	hook := store.Delivery{Event: "allegation.filed_against", Record: rec, Index: 7, Logged: now, Member: "af-1", Channel: "webhook", Target: "wh1", Next: now}
	mail := hook
	mail.Channel, mail.Target, mail.Next = "email", "af@example.org", now.Add(time.Minute)
	feed := hook
	feed.Channel, feed.Target, feed.Done = "feed", "", now
	if err := s.Enqueue(ctx, []store.Delivery{hook, mail, feed}, 8); err != nil {
		t.Fatal(err)
	}
	// Offered again (a notifier restarting before its cursor moved): queued once.
	if err := s.Enqueue(ctx, []store.Delivery{hook, mail}, 8); err != nil {
		t.Fatal(err)
	}
	if c, err := s.NoticeCursor(ctx); err != nil || c != 8 {
		t.Fatalf("cursor = %d, %v", c, err)
	}
	due, err := s.DueDeliveries(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].Channel != "webhook" || due[0].Record != rec || due[0].Index != 7 || !due[0].Logged.Equal(now) || due[0].ID == 0 {
		t.Fatalf("due now = %+v, %v", due, err)
	}
	hour, _ := s.DueDeliveries(ctx, now.Add(time.Hour), 10)
	if len(hour) != 2 || hour[1].Channel != "email" {
		t.Fatalf("due in an hour = %+v (the feed item is done when queued)", hour)
	}
	// A failed attempt is retried later; a delivered one is not again.
	d := due[0]
	d.Attempts, d.Next, d.Err = 1, now.Add(2*time.Hour), "503"
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, now.Add(time.Hour), 10); len(due) != 1 || due[0].Channel != "email" {
		t.Fatalf("a delivery put off is due: %+v", due)
	}
	d.Attempts, d.Done, d.Err = 2, now.Add(2*time.Hour), ""
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	m := hour[1]
	m.Attempts, m.Failed, m.Err = 9, true, "gave up"
	if err := s.UpdateDelivery(ctx, m); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, now.Add(24*time.Hour), 10); len(due) != 0 {
		t.Fatalf("done and failed deliveries are due: %+v", due)
	}
	got, err := s.Deliveries(ctx, "af-1", "webhook", 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 2 || !got[0].Done.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("Deliveries(webhook) = %+v, %v", got, err)
	}
	if got, _ := s.Deliveries(ctx, "af-1", "email", 10); len(got) != 1 || !got[0].Failed || got[0].Err != "gave up" {
		t.Fatalf("Deliveries(email) = %+v", got)
	}
	if got, _ := s.Deliveries(ctx, "pk-1", "feed", 10); len(got) != 0 {
		t.Fatalf("another member's feed = %+v", got)
	}
	// Newest first.
	later := feed
	later.Record, later.Index = truce.Ref{Type: "finding", ID: "FD-1"}, 9
	later.Event = "finding.in_effect"
	s.Enqueue(ctx, []store.Delivery{later}, 10)
	if got, _ := s.Deliveries(ctx, "af-1", "feed", 10); len(got) != 2 || got[0].Record.ID != "FD-1" {
		t.Fatalf("feed = %+v", got)
	}
}
