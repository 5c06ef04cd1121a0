package api

import (
	_ "embed"

	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/wire"
)

//go:embed schemas.json
var schemasJSON []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	s.openapiOnce.Do(func() { s.openapiJSON, s.openapiErr = json.MarshalIndent(OpenAPI(), "", "  ") })
	if s.openapiErr != nil {
		return s.openapiErr
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(s.openapiJSON)
	return nil
}

// OpenAPI builds the OpenAPI 3 document from the route table, so that the
// document cannot drift from what the server answers.
func OpenAPI() map[string]any {
	var schemas map[string]any
	if err := json.Unmarshal(schemasJSON, &schemas); err != nil {
		panic(err) // schemas.json is part of the build; a test parses it
	}
	// Lists and single records of every listed type share one shape.
	names := []string{"Member"}
	for _, res := range wire.Resources {
		names = append(names, strings.ToUpper(res.Type[:1])+res.Type[1:])
	}
	for _, name := range names {
		schemas[name+"List"] = map[string]any{"type": "object", "properties": map[string]any{
			"items": map[string]any{"type": "array", "items": ref(name)}, "next": map[string]any{"type": "string"}}}
		if _, ok := schemas[name+"Record"]; !ok {
			props := map[string]any{strings.ToLower(name): ref(name), "history": map[string]any{"type": "array", "items": ref("HistoryItem")}}
			if name != "Member" {
				props["receipt"] = map[string]any{"type": "string", "description": "where to fetch the record's receipt"}
			}
			if name == "Source" {
				props["text"] = map[string]any{"type": "string", "description": "the article's text, read from the entry that ingested it"}
			}
			schemas[name+"Record"] = map[string]any{"type": "object", "properties": props}
		}
	}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		p := strings.ReplaceAll(rt.Path, "...}", "}")
		op := map[string]any{"summary": rt.Summary, "operationId": operationID(rt)}
		var params []map[string]any
		for _, pm := range rt.Params {
			params = append(params, map[string]any{
				"name": pm.Name, "in": pm.In, "required": pm.In == "path", "description": pm.Desc,
				"schema": map[string]any{"type": pm.Type},
			})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Request != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": ref(rt.Request)}}}
		}
		responses := map[string]any{
			"default": map[string]any{"description": "error", "content": map[string]any{
				"application/json": map[string]any{"schema": ref("Error")}}},
		}
		var content map[string]any
		switch {
		case rt.Response == "none":
		case strings.Contains(rt.Response, "/"):
			content = map[string]any{rt.Response: map[string]any{}}
		default:
			content = map[string]any{"application/json": map[string]any{"schema": ref(rt.Response)}}
		}
		ok := map[string]any{"description": "success"}
		if content != nil {
			ok["content"] = content
		}
		responses[strconv.Itoa(rt.Status)] = ok
		op["responses"] = responses
		if rt.Action != policy.Health && rt.Action != policy.APIDoc && rt.Action != policy.LogCheckpoint && rt.Action != policy.Login {
			op["security"] = []map[string]any{{"bearer": []string{}}, {"session": []string{}}}
		}
		op["x-policy-action"] = string(rt.Action)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Truce",
			"version":     "1",
			"description": "The record of a ceasefire's joint monitoring and verification mechanism: a signed, append-only Merkle log (C2SP tlog-tiles under /log/) and the JSON API over its projections. Errors are {\"error\": {\"code\", \"message\", \"field\"}}.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "truce_session", "description": "a browser session; state-changing requests also send its CSRF token in X-CSRF-Token"},
			},
			"schemas": schemas,
		},
	}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' }) {
		if part == "api" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
