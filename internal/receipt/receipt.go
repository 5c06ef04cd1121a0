// Package receipt is the offline proof that a published record rests on
// entries of the log: every entry that touched the record, and every entry
// that added a key one of them was signed with, each with its inclusion
// proof (a C2SP tlog-proof whose extra data is the entry itself) under one
// checkpoint the witnesses cosigned. Anyone with the log's key and the
// witnesses' keys can check a receipt with no network.
//
// A receipt proves what is in the log and who signed it. The document it
// carries is the server's rendering of those entries; that it is the right
// rendering, and that no key was revoked before it signed, is what a full
// audit of the log (truce audit) checks.
package receipt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/tlog"
)

// Roles of the entries in a receipt.
const (
	RoleRecord = "record" // the entry touched the record
	RoleKey    = "key"    // the entry added a key that signed one of them
)

// Receipt is a record's receipt, as JSON.
type Receipt struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Document   json.RawMessage `json:"document"`
	Checkpoint string          `json:"checkpoint"` // signed note, with cosignatures
	Entries    []Entry         `json:"entries"`
}

// Entry is one entry of a receipt.
type Entry struct {
	Index int64  `json:"index"`
	Role  string `json:"role"`
	Proof string `json:"proof"` // C2SP tlog-proof; its extra data is the leaf
}

// Build makes the receipt of a record from the log's tiles and bundles:
// record are the indexes of the entries that touched it, keys those of the
// entries that added their keys. The checkpoint must cover them all.
func Build(ctx context.Context, tiles tlog.TileReader, checkpoint []byte, size int64,
	typ, id string, doc json.RawMessage, record, keys []int64) (*Receipt, error) {
	r := &Receipt{Type: typ, ID: id, Document: doc, Checkpoint: string(checkpoint)}
	add := func(index int64, role string) error {
		leaf, err := tlog.Leaf(ctx, tiles, index)
		if err != nil {
			return err
		}
		proof, err := tlog.InclusionProof(ctx, tiles, index, size)
		if err != nil {
			return err
		}
		p := tlog.Receipt{Index: index, Proof: proof, Checkpoint: checkpoint, Extra: leaf}
		r.Entries = append(r.Entries, Entry{Index: index, Role: role, Proof: string(p.Marshal())})
		return nil
	}
	for _, i := range record {
		if err := add(i, RoleRecord); err != nil {
			return nil, err
		}
	}
	for _, i := range keys {
		if !slices.Contains(record, i) {
			if err := add(i, RoleKey); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// Checked is what a verified receipt shows.
type Checked struct {
	Origin    string
	Size      int64
	Cosigners []string
	Entries   []CheckedEntry
}

// CheckedEntry is one proven, signature-checked entry.
type CheckedEntry struct {
	Index  int64
	Role   string
	Kind   string
	Author string
	KeyID  string
	Logged time.Time
}

// Verify checks a receipt: the checkpoint's signature by the log's key and
// at least quorum cosignatures by the witness keys; every entry's inclusion
// proof under that checkpoint; and every entry's signature, by a key an
// earlier entry of the receipt added for its author.
func Verify(b []byte, logKey string, witnessKeys []string, quorum int) (*Receipt, *Checked, error) {
	var r Receipt
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, nil, fmt.Errorf("the receipt is not receipt JSON: %w", err)
	}
	logV, err := note.NewVerifier(logKey)
	if err != nil {
		return nil, nil, fmt.Errorf("log key: %w", err)
	}
	verifiers := []note.Verifier{logV}
	for _, k := range witnessKeys {
		v, err := fnote.NewVerifierForCosignatureV1(k)
		if err != nil {
			return nil, nil, fmt.Errorf("witness key %q: %w", k, err)
		}
		verifiers = append(verifiers, v)
	}
	origin := logV.Name()
	cp, err := tlog.OpenCheckpoint([]byte(r.Checkpoint), origin, logV)
	if err != nil {
		return nil, nil, fmt.Errorf("the checkpoint: %w", err)
	}
	out := &Checked{Origin: origin, Size: cp.Size}
	n, err := note.Open([]byte(r.Checkpoint), note.VerifierList(verifiers...))
	if err != nil {
		return nil, nil, fmt.Errorf("the checkpoint: %w", err)
	}
	for _, s := range n.Sigs {
		if s.Name != origin {
			out.Cosigners = append(out.Cosigners, s.Name)
		}
	}
	if len(out.Cosigners) < quorum {
		return nil, nil, fmt.Errorf("the checkpoint carries %d of the %d witness cosignatures required", len(out.Cosigners), quorum)
	}
	if len(r.Entries) == 0 || r.Entries[0].Role != RoleRecord {
		return nil, nil, errors.New("the receipt holds no entry of the record")
	}

	// Prove every entry; collect the keys they add.
	type declared struct {
		member string
		pub    *entry.PublicKey
		index  int64
	}
	keys := map[string]declared{}
	entries := make([]*entry.Entry, len(r.Entries))
	for i, e := range r.Entries {
		p, err := tlog.ParseReceipt([]byte(e.Proof))
		if err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		if p.Index != e.Index || !bytes.Equal(p.Checkpoint, []byte(r.Checkpoint)) {
			return nil, nil, fmt.Errorf("entry %d: its proof is for another index or checkpoint", e.Index)
		}
		if _, err := p.Verify(origin, logV, p.Extra); err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		logged, en, err := entry.DecodeLeaf(p.Extra, e.Index)
		if err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		cmd, err := rules.Decode(en)
		if err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		if en.Payload.Origin != origin {
			return nil, nil, fmt.Errorf("entry %d is for log %q", e.Index, en.Payload.Origin)
		}
		member, pubs := rules.KeysDeclared(cmd)
		for _, s := range pubs {
			if pub, err := entry.ParsePublicKey(s); err == nil {
				keys[pub.ID] = declared{member, pub, e.Index}
			}
		}
		entries[i] = en
		out.Entries = append(out.Entries, CheckedEntry{Index: e.Index, Role: e.Role, Kind: en.Payload.Kind,
			Author: en.Payload.Author, KeyID: en.KeyID(), Logged: logged})
	}
	// Every signature, by a key added for its author no later than it.
	for i, en := range entries {
		k, ok := keys[en.KeyID()]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("entry %d: the receipt does not show the key %s that signed it", r.Entries[i].Index, en.KeyID())
		case k.member != en.Payload.Author || k.index > r.Entries[i].Index:
			return nil, nil, fmt.Errorf("entry %d: key %s was not %s's when it signed", r.Entries[i].Index, en.KeyID(), en.Payload.Author)
		}
		if err := en.Verify(k.pub); err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", r.Entries[i].Index, err)
		}
	}
	return &r, out, nil
}
