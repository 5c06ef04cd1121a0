package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/wire"
)

// Remote is a sink into a server, for an analyst away from it: raw pages
// go up as files, sources as entries signed with the analyst's own key or,
// without one (Sign nil), with the key the server holds for the analyst.
type Remote struct {
	Client *client.Client
	Sign   func(ctx context.Context, kind string, body any) (*dsse.Envelope, error)
}

// Rules implements Sink: the version the server says is in force.
func (r *Remote) Rules(ctx context.Context) (int, error) {
	var h wire.Health
	err := r.Client.Do(ctx, "GET", "/healthz", nil, &h)
	return h.Rules, err
}

// lookup reads the source a query finds; nil if there is none.
func (r *Remote) lookup(ctx context.Context, query url.Values) (*truce.Report, error) {
	var rec struct {
		Source *truce.Report `json:"source"`
	}
	err := r.Client.Do(ctx, "GET", "/api/v1/sources/lookup?"+query.Encode(), nil, &rec)
	if truce.ErrorCode(err) == truce.CodeNotFound {
		return nil, nil
	}
	if err == nil && rec.Source == nil {
		err = errors.New("the server's source lookup answered without a source")
	}
	return rec.Source, err
}

// Known implements Sink.
func (r *Remote) Known(ctx context.Context, sha string) (string, bool, error) {
	src, err := r.lookup(ctx, url.Values{"sha256": {sha}})
	if src == nil || err != nil {
		return "", false, err
	}
	return src.ID, true, nil
}

// Latest implements Sink.
func (r *Remote) Latest(ctx context.Context, u string) (*truce.Report, error) {
	return r.lookup(ctx, url.Values{"url": {u}})
}

// PutPage implements Sink.
func (r *Remote) PutPage(ctx context.Context, page []byte, mediaType, name string) error {
	return r.Client.Upload(ctx, safeName(name), mediaType, page)
}

// Submit implements Sink.
func (r *Remote) Submit(ctx context.Context, b *truce.SourceIngestion) (*truce.Report, error) {
	var wire any = map[string]any{"body": b}
	if r.Sign != nil {
		env, err := r.Sign(ctx, rules.KindSourceIngested, b)
		if err != nil {
			return nil, err
		}
		wire = env
	}
	raw, err := json.Marshal(wire)
	if err != nil {
		return nil, err
	}
	var ack truce.Ack
	if err := r.Client.Do(ctx, "POST", "/api/v1/sources", raw, &ack); err != nil {
		return nil, err
	}
	if ack.Record == nil {
		return nil, errors.New("the server logged the source without naming it")
	}
	var rec struct {
		Source *truce.Report `json:"source"`
	}
	if err := r.Client.Do(ctx, "GET", "/api/v1/sources/"+url.PathEscape(ack.Record.ID), nil, &rec); err != nil {
		return nil, err
	}
	if rec.Source == nil {
		return nil, errors.New("the server does not show the source it logged")
	}
	rec.Source.Text = b.Text
	return rec.Source, nil
}
