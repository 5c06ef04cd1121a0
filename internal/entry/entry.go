// Package entry defines what the log holds: leaves of the form
// {"logged", "envelope"} where the envelope is a DSSE envelope whose payload
// says who (author, key), where (origin), in what order (seq), when (time)
// and what (kind, body).
//
// The package checks form and signatures only; whether an entry is allowed
// is for internal/rules.
package entry

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
)

const (
	// PayloadType is the DSSE payload type of every entry.
	PayloadType = "application/vnd.truce.entry+json"
	// Version is the payload format version this code writes and reads.
	Version = 1
	// MaxLeafSize is the largest leaf a tlog-tiles entry bundle can carry.
	MaxLeafSize = 65535
)

// Payload is the signed content of an entry.
type Payload struct {
	V      int             `json:"v"`
	Kind   string          `json:"kind"`
	Origin string          `json:"origin"`
	Author string          `json:"author"`
	Seq    uint64          `json:"seq"`
	Time   time.Time       `json:"time"`
	Body   json.RawMessage `json:"body,omitempty"`
	// Sealed, in place of Body, is a confidential entry: the log keeps
	// only a commitment to the body and the records it names; the body
	// and salt (its opening) are kept beside the log and shown only to
	// those who may see the record.
	Sealed *SealedBody `json:"sealed,omitempty"`
}

// SealedBody is what the log keeps of a confidential entry's body: a
// salted commitment to it (truce.Commit: SHA-256 over a 32-byte salt and
// the body's bytes) and, in clear, the records the body names, so that
// everyone can see what a confidential entry is about, though not what it
// says.
type SealedBody struct {
	Commitment string      `json:"commitment"`
	Refs       []truce.Ref `json:"refs,omitempty"`
}

// Leaf is one log entry as stored in the Merkle tree. It names its own
// index, so that an entry deleted from, moved within or inserted into a
// copy of the log is caught at the first entry out of place, by anyone
// reading the entries, with or without the hash tiles.
type Leaf struct {
	Index    int64          `json:"index"`
	Logged   time.Time      `json:"logged"`
	Envelope *dsse.Envelope `json:"envelope"`
}

// Entry is an envelope with its payload decoded. Open checks its form; the
// signature is checked separately by Verify, against a key the caller looked
// up for Payload.Author and KeyID.
type Entry struct {
	Envelope *dsse.Envelope
	Payload  Payload
	raw      []byte // the payload's bytes, as signed
	// opened is a sealed entry's opening, once Unseal checked it;
	// Payload.Body is then its content.
	opened *truce.Opening
	// canonical is CheckCanonical's answer once it is known: the check
	// reads the whole payload, and the sequencer's one goroutine asks it
	// again after the request's own goroutine has.
	canonical atomic.Pointer[canonicalAnswer]
}

type canonicalAnswer struct{ err error }

// Blind reports whether the entry is sealed and its body not at hand.
func (e *Entry) Blind() bool { return e.Payload.Sealed != nil && e.opened == nil }

// Opening is a sealed entry's opening, once Unseal took it; nil otherwise.
func (e *Entry) Opening() *truce.Opening { return e.opened }

// Unseal checks that o opens the entry's sealed body and makes its
// content the entry's body. The content must be canonical (Canonical), as
// a signed payload is: one committed body means one thing.
func (e *Entry) Unseal(o truce.Opening) error {
	if e.Payload.Sealed == nil {
		return truce.FieldErrorf(truce.CodeInvalid, "sealed", "the entry is not sealed: it has nothing to open")
	}
	if err := o.Opens(truce.Sealed{Commitment: e.Payload.Sealed.Commitment}); err != nil {
		return err
	}
	if err := Canonical(o.Content); err != nil {
		return truce.FieldErrorf(truce.CodeInvalid, "sealed.content", "%v: one committed body must mean one thing to every reader", err)
	}
	e.opened = &o
	e.Payload.Body = o.Content
	return nil
}

// KeyID is the key id the envelope's one signature claims.
func (e *Entry) KeyID() string { return e.Envelope.Signatures[0].KeyID }

// ParseEnvelope decodes a DSSE envelope from JSON, refusing unknown fields
// and trailing data.
func ParseEnvelope(b []byte) (*dsse.Envelope, error) {
	var env dsse.Envelope
	if err := strictUnmarshal(b, &env); err != nil {
		return nil, truce.Errorf(truce.CodeInvalid, "envelope: %v", err)
	}
	return &env, nil
}

// Open checks an envelope's form and decodes its payload. It does not check
// the signature.
func Open(env *dsse.Envelope) (*Entry, error) {
	if env == nil {
		return nil, truce.Errorf(truce.CodeInvalid, "no envelope")
	}
	if env.PayloadType != PayloadType {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payloadType", "must be %q", PayloadType)
	}
	if len(env.Signatures) != 1 {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "signatures", "an entry carries exactly one signature, this has %d", len(env.Signatures))
	}
	if env.Signatures[0].KeyID == "" {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "signatures[0].keyid", "missing key id")
	}
	raw, err := env.DecodeB64Payload()
	if err != nil {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload", "not base64")
	}
	e := &Entry{Envelope: env, raw: raw}
	if err := strictUnmarshal(raw, &e.Payload); err != nil {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload", "%v", err)
	}
	p := &e.Payload
	switch {
	case p.V != Version:
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.v", "unsupported version %d", p.V)
	case p.Kind == "":
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.kind", "missing")
	case p.Origin == "":
		return nil, truce.FieldErrorf(truce.CodeWrongOrigin, "payload.origin", "missing")
	case p.Author == "":
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.author", "missing")
	case p.Seq == 0:
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.seq", "must be at least 1")
	case p.Time.IsZero():
		return nil, truce.FieldErrorf(truce.CodeBadTime, "payload.time", "missing")
	case p.Sealed != nil && p.Body != nil:
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.body", "a sealed entry carries its body's commitment, not the body")
	case p.Sealed != nil:
		if !commitmentForm(p.Sealed.Commitment) {
			return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.sealed.commitment", `must be "sha256:" and 64 lowercase hex digits`)
		}
		for i, r := range p.Sealed.Refs {
			if r.Type == "" || r.ID == "" {
				return nil, truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("payload.sealed.refs[%d]", i), "a record's type and id")
			}
		}
	case len(p.Body) == 0 || p.Body[0] != '{':
		return nil, truce.FieldErrorf(truce.CodeInvalid, "payload.body", "must be a JSON object")
	}
	return e, nil
}

// Verify checks the envelope's signature with k, whose key id must be the
// one the signature claims.
func (e *Entry) Verify(k *PublicKey) error {
	v, err := dsse.NewEnvelopeVerifier(verifier{k})
	if err != nil {
		return err
	}
	if _, err := v.Verify(context.Background(), e.Envelope); err != nil {
		return truce.Errorf(truce.CodeBadSignature, "signature by %s does not verify", e.KeyID())
	}
	return nil
}

// Sign encodes p and signs it with k.
func Sign(p Payload, k *PrivateKey) (*dsse.Envelope, error) {
	raw, err := p.Encode()
	if err != nil {
		return nil, err
	}
	s, err := dsse.NewEnvelopeSigner(signer{k.Key})
	if err != nil {
		return nil, err
	}
	return s.SignPayload(context.Background(), PayloadType, raw)
}

// Seal returns p with its body sealed under salt — the commitment and
// refs in place of the body — and the opening that opens it.
func Seal(p Payload, refs []truce.Ref, salt []byte) (Payload, *truce.Opening) {
	o := &truce.Opening{Salt: hex.EncodeToString(salt), Content: p.Body}
	p.Sealed = &SealedBody{Commitment: truce.Commit(salt, p.Body), Refs: refs}
	p.Body = nil
	return p, o
}

// Encode returns the payload's bytes, as Sign signs them.
func (p Payload) Encode() ([]byte, error) {
	if p.V == 0 {
		p.V = Version
	}
	return json.Marshal(p)
}

func commitmentForm(c string) bool {
	h, ok := strings.CutPrefix(c, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, r := range h {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// EncodeLeaf returns the leaf bytes for env sequenced at index and logged.
func EncodeLeaf(index int64, logged time.Time, env *dsse.Envelope) ([]byte, error) {
	b, err := json.Marshal(Leaf{Index: index, Logged: logged.UTC(), Envelope: env})
	if err != nil {
		return nil, err
	}
	if len(b) > MaxLeafSize {
		return nil, truce.Errorf(truce.CodeTooLarge, "entry is %d bytes, the limit is %d", len(b), MaxLeafSize)
	}
	return b, nil
}

// DecodeLeaf parses the leaf at index and opens its envelope.
func DecodeLeaf(b []byte, index int64) (time.Time, *Entry, error) {
	var l Leaf
	if err := strictUnmarshal(b, &l); err != nil {
		return time.Time{}, nil, fmt.Errorf("leaf: %w", err)
	}
	if l.Index != index {
		return time.Time{}, nil, fmt.Errorf("leaf: this is entry %d of the log, but it was logged as entry %d: entries were removed, moved or inserted", index, l.Index)
	}
	if l.Logged.IsZero() {
		return time.Time{}, nil, fmt.Errorf("leaf: missing logged time")
	}
	e, err := Open(l.Envelope)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("leaf: %w", err)
	}
	return l.Logged, e, nil
}

// DecodeBody strictly decodes an entry body into v.
func DecodeBody(body []byte, v any) error {
	if err := strictUnmarshal(body, v); err != nil {
		return truce.FieldErrorf(truce.CodeInvalid, "body", "%v", err)
	}
	return nil
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}
