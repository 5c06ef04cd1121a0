// Package submit is the write side every surface shares: entries a member
// signed, entries the server signs with a member's custodial key, and the
// files kept beside the log. Each call takes the member (a policy.Viewer)
// and checks the policy action first; the rules then judge each entry.
package submit

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
)

// Config is what a Service writes to.
type Config struct {
	Seq   *sequencer.Sequencer
	Vault *custody.Vault // custodial keys; nil: members sign their own
	Files blob.Store     // nil: the server keeps no files
	Blobs store.Blobs    // the files' records
	// Records are read to answer a member who names a record it may not
	// see as if the record did not exist.
	Records store.Records
	// MaxUpload bounds one file. Default 256 MiB.
	MaxUpload int64
	Policy    policy.Options
	Clock     func() time.Time // default time.Now
}

// Service submits entries and keeps files.
type Service struct {
	cfg   Config
	files [64]sync.Mutex // by a file's hash: one upload of the same bytes at a time
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 256 << 20
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{cfg: cfg}
}

// Route is what an entry submitted by a route must be: of Kind, if set,
// and about the record Subject, if set.
type Route struct{ Kind, Subject string }

// Signed logs an envelope its author signed, with the openings of a
// sealed body and of the body's sealed field, if it has them. One submits one's own entries; an
// administrator may relay others'.
func (s *Service) Signed(ctx context.Context, v policy.Viewer, rt Route, env *dsse.Envelope, body, field *truce.Opening) (*truce.Ack, error) {
	if err := policy.Check(v, policy.Submit, s.cfg.Policy); err != nil {
		return nil, err
	}
	e, err := entry.Open(env)
	if err != nil {
		return nil, err
	}
	if e.Payload.Author != v.Member.ID && v.Member.Role != truce.RoleAdmin {
		return nil, truce.Errorf(truce.CodeForbidden, "the entry is by %s; submit your own entries", e.Payload.Author)
	}
	cmd, kept, err := s.check(ctx, v, rt, e, body, field)
	if err != nil {
		return nil, err
	}
	return s.cfg.Seq.SubmitCommand(ctx, cmd, kept)
}

// ErrNoCustodialKey refuses a custodial submission by a member whose key
// the server does not hold.
var ErrNoCustodialKey = truce.Errorf(truce.CodeForbidden, "you have no custodial key: sign entries with your own key")

// Custodial signs body as rt.Kind with v's custodial key and logs it. An
// opening's content is sealed by the server: a fresh salt, and the
// commitment put into the body before it is signed.
func (s *Service) Custodial(ctx context.Context, v policy.Viewer, rt Route, body json.RawMessage, opening *truce.Opening) (*truce.Ack, error) {
	if err := policy.Check(v, policy.Submit, s.cfg.Policy); err != nil {
		return nil, err
	}
	keyID, ok := s.cfg.Seq.Snapshot().CustodialKey(v.Member.ID)
	if !ok || s.cfg.Vault == nil {
		return nil, ErrNoCustodialKey
	}
	key, err := s.cfg.Vault.Key(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if opening != nil {
		// A fresh salt, whatever the client sent: a salt reused is a
		// commitment that tells who wrote the same content twice.
		salt := make([]byte, 32)
		rand.Read(salt)
		opening.Salt = hex.EncodeToString(salt)
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
			return nil, truce.FieldErrorf(truce.CodeInvalid, "body", "must be a JSON object")
		}
		fields["sealed"], _ = json.Marshal(truce.Sealed{Commitment: truce.Commit(salt, opening.Content)})
		body, _ = json.Marshal(fields)
	}
	e := &entry.Entry{Payload: entry.Payload{Kind: rt.Kind, Author: v.Member.ID, Body: body}}
	if _, _, err := s.check(ctx, v, rt, e, nil, opening); err != nil {
		return nil, err
	}
	return s.cfg.Seq.SubmitFor(ctx, v.Member.ID, key, rt.Kind, body, opening)
}

// Prepared is an entry for a member to sign where the key is, in the
// browser: the payload's exact bytes, and the opening of its body if the
// body is sealed, to send back with the signed envelope.
type Prepared struct {
	PayloadType string        `json:"payload_type"`
	Payload     []byte        `json:"payload"` // base64 in JSON
	Opening     *PreparedSeal `json:"opening,omitempty"`
}

// PreparedSeal is an opening as the browser carries it: the content in
// base64, so that no JSON encoder on the way changes its bytes.
type PreparedSeal struct {
	Salt    string `json:"salt"`
	Content []byte `json:"content"`
}

// Opening is the opening PreparedSeal carries.
func (p *PreparedSeal) Opening() *truce.Opening {
	if p == nil {
		return nil
	}
	return &truce.Opening{Salt: p.Salt, Content: p.Content}
}

// Prepare builds the entry v would sign for body as rt.Kind — at v's next
// seq, now, sealed if the rules would have it sealed — after checking it
// as Signed will, so that a refusal comes before the member signs. The
// server signs nothing: the member's browser signs the payload with a key
// the server never holds, and sends it to Signed.
func (s *Service) Prepare(ctx context.Context, v policy.Viewer, rt Route, body json.RawMessage) (*Prepared, error) {
	if err := policy.Check(v, policy.Submit, s.cfg.Policy); err != nil {
		return nil, err
	}
	e := &entry.Entry{Payload: entry.Payload{Kind: rt.Kind, Author: v.Member.ID, Body: body}}
	if _, _, err := s.check(ctx, v, rt, e, nil, nil); err != nil {
		return nil, err
	}
	snap := s.cfg.Seq.Snapshot()
	p, o, err := sequencer.Prepare(rt.Kind, s.cfg.Seq.Origin(), v.Member.ID, snap.Seq(v.Member.ID)+1, s.cfg.Clock(), body, s.cfg.Seq.Seer(ctx))
	if err != nil {
		return nil, err
	}
	raw, err := p.Encode()
	if err != nil {
		return nil, err
	}
	out := &Prepared{PayloadType: entry.PayloadType, Payload: raw}
	if o != nil {
		out.Opening = &PreparedSeal{Salt: o.Salt, Content: o.Content}
	}
	return out, nil
}

// AddKey adds a key v made in its browser, with the key's proof that v
// holds it, to v's keys. The instance signs the addition: the key has
// signed nothing yet, and a key of a party's member then awaits its
// party's approval, as any key someone else adds.
func (s *Service) AddKey(ctx context.Context, v policy.Viewer, key, proof string) (*truce.Ack, error) {
	if err := policy.Check(v, policy.Submit, s.cfg.Policy); err != nil {
		return nil, err
	}
	if !v.Session {
		return nil, truce.Errorf(truce.CodeForbidden, "a key is made in the browser, in a signed-in session")
	}
	return s.cfg.Seq.SubmitSystem(ctx, rules.KindKeyAdded, rules.KeyAddition{Member: v.Member.ID, Key: key, Proof: proof})
}

// check opens and decodes an entry (sequencer.Decode) and checks it
// against the route — its kind, and the record the route names — and
// against what v may see: a record it names that v may not see is not
// found, as one that does not exist, whatever the rules would have said
// of it.
func (s *Service) check(ctx context.Context, v policy.Viewer, rt Route, e *entry.Entry, body, field *truce.Opening) (*rules.Command, []store.Sealed, error) {
	if rt.Kind != "" && e.Payload.Kind != rt.Kind {
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "payload.kind", "this route takes %s entries, not %s", rt.Kind, e.Payload.Kind)
	}
	cmd, kept, err := sequencer.Decode(e, body, field)
	if err != nil {
		return nil, nil, err
	}
	if rt.Subject != "" && rules.Subject(cmd) != rt.Subject {
		return nil, nil, truce.FieldErrorf(truce.CodeInvalid, "body", "the entry is about %q, the route about %q", rules.Subject(cmd), rt.Subject)
	}
	access := policy.AccessOf(v)
	for _, ref := range rules.Refs(cmd) {
		rec, err := s.cfg.Records.Record(ctx, ref.Type, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // the rules say what they say of what does not exist
		}
		if err != nil {
			return nil, nil, err
		}
		if !access.Sees(rec.Visibility, rec.Owner) {
			return nil, nil, truce.FieldErrorf(truce.CodeNotFound, ref.Field, "no %s %q", ref.Type, ref.ID)
		}
	}
	return cmd, kept, nil
}

// File is what the uploader is told of a file kept: what it sent, named by
// its hash, and nothing of anyone else's upload of the same bytes.
type File struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// StoreFile keeps a file v uploads, by its SHA-256, within the upload
// limit. name is only ever metadata.
func (s *Service) StoreFile(ctx context.Context, v policy.Viewer, name, mediaType string, body io.Reader) (*File, error) {
	st, err := s.stage(ctx, v, name, mediaType, body)
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	unlock := s.lock(st.SHA256)
	defer unlock()
	f, _, _, err := s.keep(ctx, v, st, name, mediaType)
	return f, err
}

// Evidence keeps a file and registers it as evidence, signed with v's
// custodial key. If the rules refuse the registration, a file this call
// brought to the server is removed again, record and bytes: nothing is
// kept of a refused upload.
func (s *Service) Evidence(ctx context.Context, v policy.Viewer, name, mediaType string, file io.Reader, reg *truce.EvidenceRegistration) (*truce.Ack, error) {
	if err := policy.Check(v, policy.Submit, s.cfg.Policy); err != nil {
		return nil, err
	}
	st, err := s.stage(ctx, v, name, mediaType, file)
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	// Until the registration is decided, no other upload of these bytes
	// may count on the file staying.
	unlock := s.lock(st.SHA256)
	defer unlock()
	f, fresh, recorded, err := s.keep(ctx, v, st, name, mediaType)
	if err != nil {
		return nil, err
	}
	reg.SHA256, reg.Size, reg.MediaType = f.SHA256, f.Size, f.MediaType
	body, err := json.Marshal(reg)
	if err != nil {
		return nil, err
	}
	ack, err := s.Custodial(ctx, v, Route{Kind: rules.KindEvidenceRegistered}, body, nil)
	if err != nil && recorded && truce.ErrorCode(err) != truce.CodeUnavailable {
		// Refused, not lost in a failing store (where it may yet be
		// logged): take back what this upload added.
		s.takeBack(context.WithoutCancel(ctx), v, f.SHA256, fresh)
	}
	return ack, err
}

// takeBack undoes an upload: the party's record of it, and the file if
// the upload brought it. If the record cannot be removed (a full disk),
// the file stays with it: a record never names a file that is gone.
func (s *Service) takeBack(ctx context.Context, v policy.Viewer, sha string, fresh bool) {
	if err := s.cfg.Blobs.DeleteBlob(ctx, sha, v.Member.Party); err != nil {
		return
	}
	if _, err := s.cfg.Blobs.Blob(ctx, sha, ""); fresh && errors.Is(err, store.ErrNotFound) {
		s.cfg.Files.Remove(ctx, sha)
	}
}

// stage checks an upload and reads it to disk, not yet kept.
func (s *Service) stage(ctx context.Context, v policy.Viewer, name, mediaType string, body io.Reader) (*blob.Staged, error) {
	if err := policy.Check(v, policy.UploadBlob, s.cfg.Policy); err != nil {
		return nil, err
	}
	if s.cfg.Files == nil {
		return nil, truce.Errorf(truce.CodeUnavailable, "this server keeps no files")
	}
	if err := CheckFileName(name); err != nil {
		return nil, err
	}
	if mediaType == "" {
		return nil, truce.Errorf(truce.CodeMediaType, "give the file's media type")
	}
	br := bufio.NewReader(body)
	if _, err := br.Peek(1); err == io.EOF {
		return nil, truce.FieldErrorf(truce.CodeInvalid, "file", "the file is empty")
	}
	st, err := s.cfg.Files.Stage(ctx, br, s.cfg.MaxUpload)
	var tooBig *http.MaxBytesError
	if errors.Is(err, blob.ErrTooLarge) || errors.As(err, &tooBig) {
		return nil, truce.Errorf(truce.CodeTooLarge, "the file is over %d bytes", s.cfg.MaxUpload)
	}
	return st, err
}

// keep puts a staged file in place and records the party's upload of it
// (a party's first upload of a hash keeps its record). fresh says the file
// is new to the server, recorded that the party's record is new.
func (s *Service) keep(ctx context.Context, v policy.Viewer, st *blob.Staged, name, mediaType string) (f *File, fresh, recorded bool, err error) {
	party := v.Member.Party
	_, err = s.cfg.Blobs.Blob(ctx, st.SHA256, party)
	recorded = errors.Is(err, store.ErrNotFound)
	if err != nil && !recorded {
		return nil, false, false, err
	}
	if fresh, err = st.Keep(ctx); err != nil {
		return nil, false, false, err
	}
	b := store.Blob{SHA256: st.SHA256, Size: st.Size, MediaType: mediaType, Name: name, Uploader: v.Member.ID, Party: party, Uploaded: s.cfg.Clock()}
	if err := s.cfg.Blobs.PutBlob(ctx, b); err != nil {
		if fresh {
			s.cfg.Files.Remove(context.WithoutCancel(ctx), st.SHA256)
		}
		return nil, false, false, err
	}
	// Another process over the same database may have taken the file back
	// (its own upload of these bytes refused) between Keep finding it and
	// the record: the lock above is this process's only. Kept waits for
	// such a removal to end; one that starts later sees the record and
	// leaves the file. If it is gone, it is kept again, from the bytes
	// staged here.
	kept, err := s.cfg.Files.Kept(ctx, st.SHA256)
	if err == nil && !kept {
		fresh, err = st.Keep(ctx)
	}
	if err != nil {
		return nil, false, false, err
	}
	return &File{SHA256: st.SHA256, Size: st.Size, MediaType: mediaType}, fresh, recorded, nil
}

// lock holds the lock of one file's hash (shared with a sixty-fourth of
// the others: by its first byte).
func (s *Service) lock(sha string) (unlock func()) {
	b, _ := strconv.ParseUint(sha[:2], 16, 8)
	mu := &s.files[b%uint64(len(s.files))]
	mu.Lock()
	return mu.Unlock
}

// CheckFileName refuses names that could be taken for paths or that carry
// control characters. The name is only ever metadata: files are stored by
// hash.
func CheckFileName(name string) error {
	bad := name == "." || name == ".." || len(name) > 200 || strings.ContainsAny(name, `/\:`) || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0
	if bad {
		return truce.FieldErrorf(truce.CodeInvalid, "name", "a file name without directories or control characters, at most 200 bytes")
	}
	return nil
}
