// Package notify tells members what they chose to be told, outside the
// browser: by e-mail, by signed webhook POSTs and in an Atom feed. A
// Notifier follows the log after commits (never on its write path),
// decides the events each new entry makes for each member, keeps only
// those about records the member may read — the same check as a read by
// that member (read.Service.Get) — and queues them in the store's outbox,
// from which a deliverer sends them with retries. A Service is what the
// surfaces call to set a member's choices, register webhooks and read a
// feed.
//
// E-mail addresses, webhook secrets and feed tokens are kept in the
// store's local tables (store.Notices), never in the log, which the
// parties read; webhook secrets are sealed with the custody key, feed
// tokens only hashed.
package notify

import (
	"slices"
	"strings"

	"github.com/truce-mvm/truce/internal/wire"
)

// Events are the names a member subscribes to; they are a contract
// (docs/notifications.md).
const (
	// AllegationFiledAgainst: an allegation was filed against the member's
	// party (members of a party only).
	AllegationFiledAgainst = "allegation.filed_against"
	// ReplyDue: the member's party owes a reply to an allegation due
	// within the member's lead hours.
	ReplyDue = "reply.due"
	// AdmissionDue: an allegation awaits admission or rejection, due
	// within the lead hours (the mechanism's members only).
	AdmissionDue = "admission.due"
	// ConsequenceDue: an open consequence concerning the member's party
	// (any, for the mechanism) falls due within the lead hours.
	ConsequenceDue = "consequence.due"
	// FindingInEffect: a finding concerning the member's party (any, for
	// the mechanism) came into effect.
	FindingInEffect = "finding.in_effect"
	// FindingObjected: a party objected to a finding concerning the
	// member's party (any, for the mechanism).
	FindingObjected = "finding.objected"
	// ConsequenceApplied: a finding in effect applied a consequence
	// concerning the member's party (any, for the mechanism).
	ConsequenceApplied = "consequence.applied"
)

// Events lists every event, in the order the settings show them.
var Events = []string{AllegationFiledAgainst, ReplyDue, AdmissionDue, ConsequenceDue, FindingInEffect, FindingObjected, ConsequenceApplied}

// Channels of delivery.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
	ChannelFeed    = "feed"
)

// DefaultHours is how long before a deadline the .due events come when a
// member does not say.
const DefaultHours = 24

// known reports whether every event in es is one of Events.
func known(es []string) (string, bool) {
	for _, e := range es {
		if !slices.Contains(Events, e) {
			return e, false
		}
	}
	return "", true
}

// PagePath is the path of a record's page.
func PagePath(typ, id string) string {
	return strings.TrimPrefix(wire.RecordPath(typ, id), "/api/v1")
}
