package tlog

import (
	"crypto/sha256"
	"fmt"

	"github.com/transparency-dev/formats/proof"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// Receipt is an offline proof (C2SP tlog-proof) that an entry is in the log:
// its index, its inclusion proof, and a signed checkpoint. Extra carries the
// entry itself, so the receipt alone shows what was logged.
type Receipt struct {
	Index      int64
	Proof      []Hash
	Checkpoint []byte // signed note, possibly cosigned
	Extra      []byte
}

// Marshal encodes r in the tlog-proof text format.
func (r Receipt) Marshal() []byte {
	p := proof.TLogProof{Index: uint64(r.Index), Checkpoint: r.Checkpoint, ExtraData: r.Extra}
	for _, h := range r.Proof {
		p.Hashes = append(p.Hashes, [sha256.Size]byte(h))
	}
	return p.Marshal()
}

// ParseReceipt decodes a tlog-proof.
func ParseReceipt(b []byte) (Receipt, error) {
	var p proof.TLogProof
	if err := p.Unmarshal(b); err != nil {
		return Receipt{}, err
	}
	r := Receipt{Index: int64(p.Index), Checkpoint: p.Checkpoint, Extra: p.ExtraData}
	for _, h := range p.Hashes {
		r.Proof = append(r.Proof, Hash(h))
	}
	return r, nil
}

// Verify checks that the receipt's checkpoint is signed by the log and that
// leaf is at the receipt's index in it. It returns the checkpoint.
func (r Receipt) Verify(origin string, log note.Verifier, leaf []byte) (Checkpoint, error) {
	cp, err := OpenCheckpoint(r.Checkpoint, origin, log)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("receipt checkpoint: %w", err)
	}
	if r.Index < 0 || r.Index >= cp.Size {
		return Checkpoint{}, fmt.Errorf("receipt index %d is outside the checkpoint's tree of size %d", r.Index, cp.Size)
	}
	if err := sumtlog.CheckRecord(r.Proof, cp.Size, cp.Root, r.Index, sumtlog.RecordHash(leaf)); err != nil {
		return Checkpoint{}, fmt.Errorf("receipt inclusion proof: %w", err)
	}
	return cp, nil
}
