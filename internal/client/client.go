// Package client talks to a Truce server's API, for the CLI, the
// benchmark and end-to-end tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/wire"
)

// Client is an API client.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8080
	Token string
	HTTP  *http.Client
}

// New returns a client with a timeout on every request.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// Do sends a request and decodes a JSON answer into out; error answers
// come back as *truce.Error.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, out any) error {
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return c.do(ctx, method, path, ct, body, out)
}

// Upload sends a file (POST /api/v1/blobs) of a media type.
func (c *Client) Upload(ctx context.Context, name, mediaType string, body []byte) error {
	return c.do(ctx, "POST", "/api/v1/blobs?name="+url.QueryEscape(name), mediaType, body, nil)
}

func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code    truce.Code `json:"code"`
				Message string     `json:"message"`
				Field   string     `json:"field"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			return &truce.Error{Code: e.Error.Code, Message: e.Error.Message}
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	return json.Unmarshal(b, out)
}

// Submit posts a signed envelope.
func (c *Client) Submit(ctx context.Context, env *dsse.Envelope) (*truce.Ack, error) {
	b, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	var ack truce.Ack
	if err := c.Do(ctx, "POST", "/api/v1/entries", b, &ack); err != nil {
		return nil, err
	}
	return &ack, nil
}

// Origin asks the server for its log's origin.
func (c *Client) Origin(ctx context.Context) (string, error) {
	var h struct {
		Origin string `json:"origin"`
	}
	if err := c.Do(ctx, "GET", "/healthz", nil, &h); err != nil {
		return "", err
	}
	return h.Origin, nil
}

// Seer asks the server which version of the rules is in force and, if
// those rules seal confidential entries, returns a function that asks it
// the visibility of each record an entry names (for a signer to decide
// what to seal); nil if they do not.
func (c *Client) Seer(ctx context.Context) (func(rules.Ref) (truce.Visibility, bool), error) {
	var h wire.Health
	if err := c.Do(ctx, "GET", "/healthz", nil, &h); err != nil {
		return nil, err
	}
	if !rules.Seals(h.Rules) {
		return nil, nil
	}
	return func(r rules.Ref) (truce.Visibility, bool) {
		var rec struct {
			Visibility truce.Visibility `json:"visibility"`
		}
		if err := c.Do(ctx, "GET", wire.ListPath(r.Type)+"/"+url.PathEscape(r.ID), nil, &rec); err != nil || rec.Visibility == "" {
			return "", false
		}
		return rec.Visibility, true
	}, nil
}

// Seq asks the server for a member's last seq.
func (c *Client) Seq(ctx context.Context, member string) (uint64, error) {
	var m struct {
		Seq uint64 `json:"seq"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/members/"+member, nil, &m); err != nil {
		return 0, err
	}
	return m.Seq, nil
}
