package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
)

// Local is a sink into an instance this process has open: sources are
// signed by the instance's system key, raw pages kept in its blob store.
type Local struct {
	Seq   *sequencer.Sequencer
	Store store.Store
	Blobs blob.Store
	Clock func() time.Time
}

// NewLocal returns a sink into an instance open in this process.
func NewLocal(in *instance.Instance, clock func() time.Time) (*Local, error) {
	blobs, err := in.Blobs()
	if err != nil {
		return nil, err
	}
	return &Local{Seq: in.Seq, Store: in.Store, Blobs: blobs, Clock: clock}, nil
}

// Known implements Sink. It reads the store, where only what is durable
// is.
func (l *Local) Known(ctx context.Context, sha string) (id string, ok bool, err error) {
	rec, err := l.Store.Find(ctx, rules.TypeSource, "sha256", sha)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return rec.ID, true, nil
}

// Latest implements Sink.
func (l *Local) Latest(ctx context.Context, url string) (*truce.Report, error) {
	rec, err := l.Store.Find(ctx, rules.TypeSource, "url", url)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r truce.Report
	return &r, json.Unmarshal(rec.Doc, &r)
}

// Rules implements Sink.
func (l *Local) Rules(context.Context) (int, error) { return l.Seq.Snapshot().Rules, nil }

// PutPage implements Sink. Pages are readable by the mechanism, as any
// file the system keeps.
func (l *Local) PutPage(ctx context.Context, page []byte, mediaType, name string) error {
	sha, size, _, err := blob.Put(ctx, l.Blobs, bytes.NewReader(page), int64(len(page)))
	if err != nil {
		return err
	}
	return l.Store.PutBlob(ctx, store.Blob{SHA256: sha, Size: size, MediaType: mediaType, Name: safeName(name),
		Uploader: truce.SystemAuthor, Party: truce.Mechanism, Uploaded: l.Clock()})
}

// Submit implements Sink.
func (l *Local) Submit(ctx context.Context, b *truce.SourceIngestion) (*truce.Report, error) {
	ack, err := l.Seq.SubmitSystem(ctx, rules.KindSourceIngested, b)
	if err != nil {
		return nil, err
	}
	rec, err := l.Store.Record(ctx, ack.Record.Type, ack.Record.ID)
	if err != nil {
		return nil, err
	}
	var r truce.Report
	if err := json.Unmarshal(rec.Doc, &r); err != nil {
		return nil, err
	}
	r.Text = b.Text
	return &r, nil
}

// safeName makes a page's name a file name the blob store takes: no
// directories, no control characters, at most 200 bytes.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, name)
	if name == "." || name == ".." || name == "" {
		name = "page"
	}
	if len(name) > 200 {
		name = strings.ToValidUTF8(name[:200], "")
	}
	return name
}
