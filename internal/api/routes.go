package api

import (
	"net/http"
	"strings"

	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/wire"
)

// param documents a query or path parameter.
type param struct {
	Name, In, Type, Desc string
}

// route is one entry of the route table.
type route struct {
	Method, Path string        // net/http pattern parts
	Action       policy.Action // what the policy decides for it
	Summary      string
	Params       []param
	Request      string // schema of the JSON request body
	Response     string // schema (or media type, for non-JSON) of the success body
	Status       int    // success status
	Upload       bool   // takes a file: the upload limit, not the body limit
	handle       func(*Server, http.ResponseWriter, *http.Request) error
}

var listParams = []param{
	{"limit", "query", "integer", "page size, 1 to 200 (default 50)"},
	{"cursor", "query", "string", "the next value of the previous page"},
}

// routes is the route table: every path the server answers. It is built
// in init because the OpenAPI handler in it reads it.
var routes []route

func init() { routes = routeTable() }

// actions are the POST routes: each takes a client-signed envelope of one
// kind about the record in the path.
var actions = []struct{ path, kind, summary string }{
	{"/api/v1/allegations", rules.KindAllegationFiled, "File an allegation"},
	{"/api/v1/allegations/{id}/reply", rules.KindReplyFiled, "Reply to an allegation, as the accused party"},
	{"/api/v1/allegations/{id}/admit", rules.KindAllegationAdmitted, "Admit an allegation for verification"},
	{"/api/v1/allegations/{id}/reject", rules.KindAllegationRejected, "Reject an allegation: out of scope, duplicate or unfounded"},
	{"/api/v1/cases", rules.KindCaseOpened, "Open a verification case on an admitted allegation"},
	{"/api/v1/cases/{id}/tasks", rules.KindTaskAssigned, "Assign a verification task"},
	{"/api/v1/tasks/{id}/result", rules.KindTaskCompleted, "Complete a task with its result"},
	{"/api/v1/evidence", rules.KindEvidenceRegistered, "Register evidence by its SHA-256"},
	{"/api/v1/evidence/{id}/custody", rules.KindEvidenceCustody, "Record a custody event"},
	{"/api/v1/findings", rules.KindFindingProposed, "Propose a finding on a case"},
	{"/api/v1/findings/{id}/signatures", rules.KindFindingSigned, "Sign a finding, concurring or dissenting"},
	{"/api/v1/findings/{id}/objections", rules.KindFindingObjected, "Object to a finding in effect, as a party"},
	{"/api/v1/consequences/{id}/fulfil", rules.KindConsequenceFulfilled, "Confirm a consequence fulfilled"},
	{"/api/v1/consequences/{id}/waive", rules.KindConsequenceWaived, "Waive a consequence, with reasons"},
	{"/api/v1/commitments/{id}", rules.KindCommitmentUpdated, "Update a commitment's status"},
	{"/api/v1/amendments", rules.KindAmendmentProposed, "Propose an amendment to the agreement"},
	{"/api/v1/amendments/{id}/signatures", rules.KindAmendmentSigned, "Sign an amendment"},
	{"/api/v1/sources", rules.KindSourceIngested, "Ingest an article or statement: its text, claims, places and actors (the rules place it in a story)"},
	{"/api/v1/outlets/{id}/grade", rules.KindOutletGraded, "Grade an outlet's reliability, A to F"},
	{"/api/v1/links", rules.KindSourceLinked, "Tie a source or a story to an allegation or a case"},
	{"/api/v1/reports", rules.KindReportPublished, "Publish a situation report: log the SHA-256 of its JSON rendering, with its period and title (mediator; rules version 7)"},
	{"/api/v1/sources/{id}/move", rules.KindSourceMoved, "Move a source (and its copies) to another story, or one of its own, where the grouping was wrong"},
}

func routeTable() []route {
	rts := []route{
		{Method: "GET", Path: "/healthz", Action: policy.Health, Summary: "Readiness: 200 once the log is loaded and accepting entries",
			Response: "Health", Status: 200, handle: (*Server).health},
		{Method: "GET", Path: "/readyz", Action: policy.Health, Summary: "Whether to send this server traffic, with each check: the log accepting entries, the store answering and writable, the node's role known, and (with witnesses) a quorum's cosignature recent; 503 with the same body when not ready",
			Response: "Ready", Status: 200, handle: (*Server).ready},

		{Method: "GET", Path: "/log/checkpoint", Action: policy.LogCheckpoint, Summary: "The newest published checkpoint (C2SP tlog-checkpoint): with witnesses, the newest that enough of them cosigned",
			Response: "text/plain", Status: 200, handle: (*Server).checkpoint},
		{Method: "GET", Path: "/log/witnesses", Action: policy.LogCheckpoint, Summary: "The witnesses that cosign checkpoints: name, cosignature verifier key and URL",
			Response: "Witnesses", Status: 200, handle: (*Server).witnesses},
		{Method: "GET", Path: "/log/tile/{path...}", Action: policy.LogRead, Summary: "Hash tiles tile/<L>/<N>[.p/<W>] and entry bundles tile/entries/<N>[.p/<W>] (C2SP tlog-tiles)",
			Params:   []param{{"path", "path", "string", "<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]"}},
			Response: "application/octet-stream", Status: 200, handle: (*Server).tile},
		{Method: "GET", Path: "/log/vkey", Action: policy.LogCheckpoint, Summary: "The checkpoint verifier key (signed-note), one line",
			Response: "text/plain", Status: 200, handle: (*Server).vkey},
		{Method: "GET", Path: "/log/proof/inclusion", Action: policy.LogRead, Summary: "Inclusion proof of entry index in the tree of size size",
			Params:   []param{{"index", "query", "integer", "entry index"}, {"size", "query", "integer", "tree size, at most the newest checkpoint's"}},
			Response: "Proof", Status: 200, handle: (*Server).inclusion},
		{Method: "GET", Path: "/log/proof/consistency", Action: policy.LogRead, Summary: "Consistency proof from the tree of size old to the tree of size size",
			Params:   []param{{"old", "query", "integer", "older tree size"}, {"size", "query", "integer", "newer tree size, at most the newest checkpoint's"}},
			Response: "Proof", Status: 200, handle: (*Server).consistency},

		{Method: "POST", Path: "/api/v1/entries", Action: policy.Submit, Summary: "Submit an entry of any kind: a client-signed DSSE envelope, or {kind, body} for the server to sign with your custodial key; answers once durable",
			Request: "Envelope", Response: "Ack", Status: 201, handle: (*Server).postEntry},
		{Method: "GET", Path: "/api/v1/agreement", Action: policy.ReadRecords, Summary: "The agreement in force, with its clauses, rules, talks and commitments",
			Response: "AgreementRecord", Status: 200, handle: (*Server).getAgreement},
		{Method: "GET", Path: "/api/v1/openings", Action: policy.ReadRecords, Summary: "The openings of the log's sealed commitments you may read, in log order: what an auditor needs to check the confidential entries of the records you see",
			Params:   []param{{"from", "query", "integer", "the entry index to start from (a page's next)"}},
			Response: "Openings", Status: 200, handle: (*Server).openings},
		{Method: "GET", Path: "/api/v1/overdue", Action: policy.ReadOverdue, Summary: "Everything past its deadline in log time: replies, admissions, verifications, tasks, consequences, commitments",
			Response: "Overdue", Status: 200, handle: (*Server).overdue},
		{Method: "GET", Path: "/api/v1/sources/lookup", Action: policy.ReadRecords, Summary: "The source ingested from a raw page (by its SHA-256), or the latest one from an address; 404 if none",
			Params:   []param{{"sha256", "query", "string", "the raw page's SHA-256"}, {"url", "query", "string", "the page's address"}},
			Response: "SourceRecord", Status: 200, handle: (*Server).lookupSource},
		{Method: "GET", Path: "/api/v1/search", Action: policy.ReadRecords, Summary: "Find records by the words people wrote in them — allegations and their replies, cases, tasks, evidence, findings, consequences, commitments, sources, stories — only those the reader may see, newest first",
			Params: []param{{"q", "query", "string", "the words (each must match; the last may begin a word)"}, {"type", "query", "string", "one type of record"},
				{"from", "query", "string", "the record's time on or after (RFC 3339 or YYYY-MM-DD)"}, {"to", "query", "string", "on or before"}},
			Response: "SearchHits", Status: 200, handle: (*Server).search},
		{Method: "GET", Path: "/api/v1/discrepancies", Action: policy.ReadRecords, Summary: "Where a story's sources disagree, side by side with their quoted sentences",
			Params:   []param{{"story", "query", "string", "story id"}, {"kind", "query", "string", "weekday_mismatch, duration_vs_range, claimants_disagree or outlets_disagree"}},
			Response: "Discrepancies", Status: 200, handle: (*Server).discrepancies},
		{Method: "GET", Path: "/api/v1/members/{id}", Action: policy.ReadMembers, Summary: "One member, with keys and last seq",
			Params:   []param{{"id", "path", "string", "member id"}},
			Response: "MemberRecord", Status: 200, handle: (*Server).getMember},
		{Method: "GET", Path: "/api/v1/members", Action: policy.ReadMembers, Summary: "List members",
			Params: listings[rules.TypeMember].params(), Response: "MemberList", Status: 200, handle: listOf(rules.TypeMember)},

		{Method: "POST", Path: "/api/v1/session", Action: policy.Login, Summary: "Sign in with member id and password; sets the session cookie and returns the CSRF token",
			Request: "Login", Response: "Session", Status: 201, handle: (*Server).login},
		{Method: "GET", Path: "/api/v1/session", Action: policy.Logout, Summary: "Who is signed in, with the session's CSRF token",
			Response: "Session", Status: 200, handle: (*Server).session},
		{Method: "DELETE", Path: "/api/v1/session", Action: policy.Logout, Summary: "Sign out",
			Response: "none", Status: 204, handle: (*Server).logout},
		{Method: "GET", Path: "/api/v1/tokens", Action: policy.ManageTokens, Summary: "Your API tokens (an administrator: everyone's, with ?all=1)",
			Response: "TokenList", Status: 200, handle: (*Server).listTokens},
		{Method: "POST", Path: "/api/v1/tokens", Action: policy.ManageTokens, Summary: "Issue a token with some of your scopes; the token is shown once",
			Request: "NewToken", Response: "Token", Status: 201, handle: (*Server).createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Action: policy.ManageTokens, Summary: "Revoke a token",
			Params: []param{{"id", "path", "string", "token id"}}, Response: "Token", Status: 200, handle: (*Server).revokeToken},
		{Method: "GET", Path: "/api/v1/notifications", Action: policy.ManageNotifications, Summary: "Your notification settings: e-mail address, events, hours before a deadline",
			Response: "Notifications", Status: 200, handle: (*Server).getNotifications},
		{Method: "PUT", Path: "/api/v1/notifications", Action: policy.ManageNotifications, Summary: "Set your e-mail address (kept off the log), the events to be told of by e-mail and feed, and the hours before a deadline",
			Request: "Notifications", Response: "Notifications", Status: 200, handle: (*Server).putNotifications},
		{Method: "POST", Path: "/api/v1/notifications/feed", Action: policy.ManageNotifications, Summary: "Make your Atom feed's secret address, shown once; an earlier one stops working",
			Response: "FeedToken", Status: 201, handle: (*Server).newFeed},
		{Method: "GET", Path: "/api/v1/webhooks", Action: policy.ManageNotifications, Summary: "Your webhooks, without their secrets",
			Response: "WebhookList", Status: 200, handle: (*Server).listWebhooks},
		{Method: "POST", Path: "/api/v1/webhooks", Action: policy.ManageNotifications, Summary: "Register a webhook: events are POSTed to url as {event, record, index, logged}, signed in X-Truce-Signature with the secret, which is shown once",
			Request: "NewWebhook", Response: "Webhook", Status: 201, handle: (*Server).createWebhook},
		{Method: "DELETE", Path: "/api/v1/webhooks/{id}", Action: policy.ManageNotifications, Summary: "Delete a webhook",
			Params: []param{{"id", "path", "string", "webhook id"}}, Response: "none", Status: 204, handle: (*Server).deleteWebhook},
		{Method: "GET", Path: "/feeds/{file}", Action: policy.ReadFeed, Summary: "A member's notifications as Atom, at /feeds/<token>.atom (the token is the credential)",
			Params: []param{{"file", "path", "string", "<token>.atom"}}, Response: "application/atom+xml", Status: 200, handle: (*Server).feed},
		{Method: "POST", Path: "/api/v1/blobs", Action: policy.UploadBlob, Summary: "Upload an evidence file (the body; Content-Type its media type; ?name= its file name); returns its SHA-256 to register",
			Params: []param{{"name", "query", "string", "file name, without directories"}}, Response: "Blob", Status: 201, Upload: true, handle: (*Server).uploadBlob},
		{Method: "GET", Path: "/api/v1/blobs/{sha256}", Action: policy.ReadBlob, Summary: "Download an evidence file",
			Params: []param{{"sha256", "path", "string", "the file's SHA-256"}}, Response: "application/octet-stream", Status: 200, handle: (*Server).downloadBlob},
		{Method: "GET", Path: "/api/v1/exports/allegations.csv", Action: policy.Export, Summary: "Allegations you may see, as ACLED CSV (format=acled) or HXL-tagged CSV (format=hxl)",
			Params: append([]param{{"format", "query", "string", "acled (default) or hxl"}}, listings[rules.TypeAllegation].params()...), Response: "text/csv", Status: 200, handle: (*Server).exportCSV},
		{Method: "GET", Path: "/api/v1/reports/situation", Action: policy.ReadRecords, Summary: "The situation report of a period, made only of the records you may see: counts by party, category, area and determination; new and open allegations; replies overdue by party; findings in effect with their receipts; consequences due; commitments; the map; allegations and findings per day per party. JSON (canonical: its SHA-256 is what a mediator publishes), HTML or PDF",
			Params: []param{{"from", "query", "string", "start, RFC 3339 or YYYY-MM-DD (default: 24 hours before to)"}, {"to", "query", "string", "end, excluded; a date runs through its day (default: now)"},
				{"format", "query", "string", "json (default), html or pdf"}, {"title", "query", "string", "the report's title"},
				{"audience", "query", "string", "narrow the report to what another reader sees: public, parties, mechanism or a party's code (never more than you see)"}},
			Response: "Situation", Status: 200, handle: (*Server).situation},
		{Method: "GET", Path: "/api/v1/exports/allegations.geojson", Action: policy.Export, Summary: "Allegations you may see, as GeoJSON",
			Params: listings[rules.TypeAllegation].params(), Response: "application/geo+json", Status: 200, handle: (*Server).exportGeoJSON},
	}
	for _, res := range wire.Resources {
		name := strings.ToUpper(res.Type[:1]) + res.Type[1:]
		action := read.ReadAction(res.Type) // as the read side checks it: published reports are for anyone
		rts = append(rts,
			route{Method: "GET", Path: "/api/v1/" + res.Plural, Action: action, Summary: "List " + res.Plural + ", newest first",
				Params: listings[res.Type].params(), Response: name + "List", Status: 200, handle: listOf(res.Type)},
			route{Method: "GET", Path: "/api/v1/" + res.Plural + "/{id}", Action: action, Summary: "One " + res.Type + " with the entries that touched it",
				Params: []param{{"id", "path", "string", res.Type + " id"}}, Response: name + "Record", Status: 200, handle: getOf(res.Type)},
			route{Method: "GET", Path: "/api/v1/" + res.Plural + "/{id}/receipt", Action: action, Summary: "An offline proof that the " + res.Type + " rests on signed, witnessed log entries (check it with truce verify-receipt)",
				Params: []param{{"id", "path", "string", res.Type + " id"}}, Response: "Receipt", Status: 200, handle: receiptOf(res.Type)})
	}
	for _, a := range actions {
		rt := route{Method: "POST", Path: a.path, Action: policy.Submit, Summary: a.summary + " (" + a.kind + ")",
			Request: "Envelope", Response: "Ack", Status: 201, handle: postAs(a.kind)}
		if strings.Contains(a.path, "{id}") {
			rt.Params = []param{{"id", "path", "string", "the record the entry acts on"}}
		}
		rts = append(rts, rt)
	}
	return append(rts, route{Method: "GET", Path: "/api/openapi.json", Action: policy.APIDoc, Summary: "This API, as an OpenAPI 3 document",
		Response: "application/json", Status: 200, handle: (*Server).openapi})
}

// Routes lists every route the server answers, with its action.
func Routes() []policy.Route {
	out := make([]policy.Route, len(routes))
	for i, rt := range routes {
		out[i] = policy.Route{Method: rt.Method, Path: rt.Path, Action: rt.Action}
	}
	return out
}
