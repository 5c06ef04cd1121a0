package api

import "net/http"

// param documents a query or path parameter.
type param struct {
	Name, In, Type, Desc string
}

// route is one entry of the route table.
type route struct {
	Method, Path string // net/http pattern parts
	Auth         bool   // needs a bearer token
	Summary      string
	Params       []param
	Request      string // schema of the JSON request body
	Response     string // schema (or media type, for non-JSON) of the success body
	Status       int    // success status
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

func routeTable() []route {
	return []route{
		{Method: "GET", Path: "/healthz", Summary: "Readiness: 200 once the log is loaded and accepting entries",
			Response: "Health", Status: 200, handle: (*Server).health},

		{Method: "GET", Path: "/log/checkpoint", Summary: "The newest signed checkpoint (C2SP tlog-checkpoint)",
			Response: "text/plain", Status: 200, handle: (*Server).checkpoint},
		{Method: "GET", Path: "/log/tile/{path...}", Summary: "Hash tiles tile/<L>/<N>[.p/<W>] and entry bundles tile/entries/<N>[.p/<W>] (C2SP tlog-tiles)",
			Params:   []param{{"path", "path", "string", "<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]"}},
			Response: "application/octet-stream", Status: 200, handle: (*Server).tile},
		{Method: "GET", Path: "/log/vkey", Summary: "The checkpoint verifier key (signed-note), one line",
			Response: "text/plain", Status: 200, handle: (*Server).vkey},
		{Method: "GET", Path: "/log/proof/inclusion", Summary: "Inclusion proof of entry index in the tree of size size",
			Params:   []param{{"index", "query", "integer", "entry index"}, {"size", "query", "integer", "tree size, at most the newest checkpoint's"}},
			Response: "Proof", Status: 200, handle: (*Server).inclusion},
		{Method: "GET", Path: "/log/proof/consistency", Summary: "Consistency proof from the tree of size old to the tree of size size",
			Params:   []param{{"old", "query", "integer", "older tree size"}, {"size", "query", "integer", "newer tree size, at most the newest checkpoint's"}},
			Response: "Proof", Status: 200, handle: (*Server).consistency},

		{Method: "POST", Path: "/api/v1/entries", Auth: true, Summary: "Submit a client-signed DSSE envelope; answers once the entry is durable",
			Request: "Envelope", Response: "Ack", Status: 201, handle: (*Server).postEntry},
		{Method: "GET", Path: "/api/v1/allegations", Auth: true, Summary: "List allegations, newest first",
			Params: append([]param{
				{"party", "query", "string", "party code: filed by or against it"},
				{"filer", "query", "string", "party code of the filer"},
				{"accused", "query", "string", "party code of the accused"},
				{"category", "query", "string", "event category slug"},
				{"status", "query", "string", "allegation status"},
				{"from", "query", "string", "events on or after (RFC 3339 or YYYY-MM-DD)"},
				{"to", "query", "string", "events on or before (RFC 3339 or YYYY-MM-DD)"},
				{"bbox", "query", "string", "area: minLon,minLat,maxLon,maxLat"},
			}, listParams...),
			Response: "AllegationList", Status: 200, handle: (*Server).listAllegations},
		{Method: "GET", Path: "/api/v1/allegations/{id}", Auth: true, Summary: "One allegation with the entries that touched it",
			Params:   []param{{"id", "path", "string", "allegation id, e.g. AL-0001"}},
			Response: "AllegationRecord", Status: 200, handle: (*Server).getAllegation},
		{Method: "GET", Path: "/api/v1/members", Auth: true, Summary: "List members",
			Params:   append([]param{{"party", "query", "string", "party code"}, {"role", "query", "string", "role"}}, listParams...),
			Response: "MemberList", Status: 200, handle: (*Server).listMembers},
		{Method: "GET", Path: "/api/v1/members/{id}", Auth: true, Summary: "One member, with keys and last seq",
			Params:   []param{{"id", "path", "string", "member id"}},
			Response: "MemberRecord", Status: 200, handle: (*Server).getMember},
		{Method: "GET", Path: "/api/v1/agreement", Auth: true, Summary: "The agreement in force",
			Response: "AgreementRecord", Status: 200, handle: (*Server).getAgreement},

		{Method: "GET", Path: "/api/openapi.json", Summary: "This API, as an OpenAPI 3 document",
			Response: "application/json", Status: 200, handle: (*Server).openapi},
	}
}
