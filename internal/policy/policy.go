// Package policy is who may do what, in one table: every route of every
// surface — the API's and the pages' — names an Action, and Check decides
// it for a Viewer; what a viewer may read of records is its Access. The rules (internal/rules)
// then decide, per entry kind and state, what a member may sign: the
// policy lets a request reach them, the rules judge the entry.
package policy

import (
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// Action is what a request does.
type Action string

// Actions.
const (
	Health        Action = "health"         // readiness
	Static        Action = "static"         // the pages' styles, scripts and map outline
	Dashboard     Action = "dashboard"      // what awaits a member
	APIDoc        Action = "api.doc"        // the OpenAPI document
	LogCheckpoint Action = "log.checkpoint" // checkpoints and the verifier key
	LogRead       Action = "log.read"       // tiles, entry bundles and proofs: the whole log
	Login         Action = "session.login"
	Enrol         Action = "session.enrol" // set a password by a one-time link
	Logout        Action = "session.logout"
	ReadRecords   Action = "records.read" // lists and records, as Access allows
	ReadMembers   Action = "members.read"
	ReadOverdue   Action = "overdue.read"
	Export        Action = "records.export" // ACLED, HXL, GeoJSON, as Access allows
	Submit        Action = "entries.submit" // sign and log entries; the rules judge each one
	ManageTokens  Action = "tokens.manage"  // one's own API tokens
	UploadBlob    Action = "blobs.upload"   // evidence files
	ReadBlob      Action = "blobs.read"
	InviteMembers Action = "members.invite" // give a member a one-time link to set a password
	// ManageNotifications is one's own notification settings, webhooks
	// and feed token.
	ManageNotifications Action = "notifications.manage"
	// ReadFeed is a member's Atom feed, by the secret token in its path.
	ReadFeed Action = "feeds.read"
	// ReadPublished lists the situation reports mediators published: their
	// records are public, for anyone to check a report they were sent.
	ReadPublished Action = "reports.published"
)

// Route is a route of a surface and the action it is: what the
// authorization matrix tries every route of every surface with.
type Route struct {
	Method, Path string
	Action       Action
}

// Viewer is who makes a request.
type Viewer struct {
	Member  *truce.Member // nil: anonymous
	Scopes  []string      // what the credential allows: read, write, manage
	Session bool          // authenticated by a browser session cookie
	// Expires is when the token the viewer came with expires (zero: it
	// does not, or the viewer came with no token).
	Expires time.Time
}

// Scopes a token may carry.
const (
	ScopeRead   = "read"   // read records and the log
	ScopeWrite  = "write"  // submit entries and upload files
	ScopeManage = "manage" // manage one's own tokens
)

// AllScopes are the scopes of a browser session.
var AllScopes = []string{ScopeRead, ScopeWrite, ScopeManage}

// who a rule of the table admits.
type who int

const (
	anyone  who = iota // no credentials needed
	authed             // any authenticated member, the public role included
	members            // every member but the public role
	workers            // members who handle evidence: liaisons and the mechanism's staff and mediators, not admins
	admins             // the instance's administrators
)

// rule is one row of the policy table.
type rule struct {
	who   who
	scope string // the credential scope the action needs; "" for none
}

// table is the policy: every Action, who may do it, with what scope.
var table = map[Action]rule{
	Health:        {anyone, ""},
	Static:        {anyone, ""},
	Dashboard:     {authed, ScopeRead},
	APIDoc:        {anyone, ""},
	LogCheckpoint: {anyone, ""},
	Login:         {anyone, ""},
	Enrol:         {anyone, ""},
	LogRead:       {members, ScopeRead}, // witnesses need not read it: the log sends them proofs
	Logout:        {authed, ""},
	ReadRecords:   {authed, ScopeRead},
	Export:        {authed, ScopeRead},
	ReadMembers:   {members, ScopeRead},
	ReadOverdue:   {members, ScopeRead},
	Submit:        {members, ScopeWrite},
	UploadBlob:    {workers, ScopeWrite},
	ReadBlob:      {members, ScopeRead},
	ManageTokens:  {authed, ScopeManage},
	InviteMembers: {admins, ScopeManage},
	// Webhooks and feeds send records out of the server: the manage scope,
	// which a read-only token lacks.
	ManageNotifications: {authed, ScopeManage},
	ReadFeed:            {anyone, ""}, // the token in the path is the credential
	ReadPublished:       {anyone, ""},
}

// Actions lists every action of the table.
func Actions() []Action {
	out := make([]Action, 0, len(table))
	for a := range table {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Options change the table for an instance.
type Options struct {
	// PublicLog lets anyone read the whole log (tiles, bundles, proofs),
	// as an exercise instance may; otherwise only members and witnesses do.
	PublicLog bool
}

// Check decides whether v may do a. It returns nil, or a coded error:
// unauthorized (401) when credentials would help, forbidden (403) when not.
func Check(v Viewer, a Action, o Options) error {
	if v.Member != nil && v.Member.Role == truce.RoleSystem {
		return truce.Errorf(truce.CodeForbidden, "the system author makes no requests") // its key signs in-process only
	}
	r, ok := table[a]
	if !ok {
		return truce.Errorf(truce.CodeForbidden, "no policy for %s", a) // a route without a policy is closed
	}
	if a == LogRead && o.PublicLog {
		return nil
	}
	if r.who == anyone {
		return nil
	}
	if v.Member == nil {
		return truce.Errorf(truce.CodeUnauthorized, "this needs an Authorization: Bearer token or a session")
	}
	if r.scope != "" && !slices.Contains(v.Scopes, r.scope) {
		return truce.Errorf(truce.CodeForbidden, "the credential lacks the %q scope", r.scope)
	}
	role := v.Member.Role
	var allowed bool
	switch r.who {
	case authed:
		allowed = true
	case members:
		allowed = role != truce.RolePublic
	case workers:
		allowed = slices.Contains([]truce.Role{truce.RoleLiaison, truce.RoleMediator, truce.RoleMonitor, truce.RoleAnalyst}, role)
	case admins:
		allowed = role == truce.RoleAdmin
	}
	if !allowed {
		return truce.Errorf(truce.CodeForbidden, "a %s may not do %s", role, a)
	}
	return nil
}

// IsMechanism reports whether a role works for the mechanism rather than
// for a party.
func IsMechanism(r truce.Role) bool {
	return slices.Contains([]truce.Role{truce.RoleMediator, truce.RoleMonitor, truce.RoleAnalyst, truce.RoleAdmin, truce.RoleSystem}, r)
}

// AccessOf is what v may read of records.
func AccessOf(v Viewer) *truce.Access {
	m := v.Member
	switch {
	case m == nil || m.Role == truce.RolePublic || m.Role == truce.RoleSystem:
		return &truce.Access{}
	case IsMechanism(m.Role):
		return &truce.Access{Parties: true, Mechanism: true}
	default:
		return &truce.Access{Parties: true, Party: m.Party}
	}
}
