package truce

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Visibility says who may read a record. Everything in the log itself is
// readable by every member and witness, so what must stay within the
// mechanism enters the log only as a salted commitment (Sealed) and is
// shown, from outside the log, only to those who may see it.
type Visibility = string

// Visibilities, from widest to narrowest.
const (
	Public   Visibility = "public"    // anyone, the press and guarantors included
	Parties  Visibility = "parties"   // every member: both parties and the mechanism
	Internal Visibility = "mechanism" // the mechanism (mediators and its staff), and the party that owns the record
)

// Visibilities lists the visibilities a filing may choose.
var Visibilities = []Visibility{Public, Parties, Internal}

// Access is what a reader may see of records: public ones always,
// Parties if set, Internal ones if Mechanism is set or they belong to
// Party; All sees everything, and is only for the system itself (replay,
// verification, the in-process ingester). A nil *Access sees nothing: a
// reader whose access was not decided is refused, never shown everything.
type Access struct {
	Parties   bool
	Mechanism bool
	Party     string
	All       bool
}

// Everything is the system's own access: every record, whatever its
// visibility.
var Everything = &Access{All: true}

// Sees reports whether a reader with access a sees a record of the given
// visibility owned by owner (a party code, or "").
func (a *Access) Sees(v Visibility, owner string) bool {
	switch {
	case a == nil:
		return false
	case a.All || v == Public:
		return true
	case v == Parties:
		return a.Parties || a.Mechanism
	default:
		return a.Mechanism || (owner != "" && owner == a.Party)
	}
}

// Sealed is confidential content kept out of the log: an entry carries
// only its commitment, SHA-256 over a 32-byte random salt followed by the
// content's bytes, as "sha256:" and lowercase hex. The content and salt
// are kept in the access-controlled store; anyone given both can check
// them against the logged commitment.
type Sealed struct {
	Commitment string `json:"commitment"`
}

// Opening is what opens a Sealed commitment.
type Opening struct {
	Salt    string          `json:"salt"`    // hex, 32 bytes
	Content json.RawMessage `json:"content"` // a JSON object, byte for byte as committed
}

// Commit returns the commitment to content under salt.
func Commit(salt, content []byte) string {
	h := sha256.New()
	h.Write(salt)
	h.Write(content)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// MaxSealed bounds the content of one opening.
const MaxSealed = 64 << 10

// Opens checks that o opens s.
func (o Opening) Opens(s Sealed) error {
	salt, err := hex.DecodeString(o.Salt)
	if err != nil || len(salt) != 32 {
		return FieldErrorf(CodeInvalid, "sealed.salt", "must be 32 bytes of hex")
	}
	if len(o.Content) == 0 || len(o.Content) > MaxSealed || o.Content[0] != '{' || !json.Valid(o.Content) {
		return FieldErrorf(CodeInvalid, "sealed.content", "must be a JSON object of at most %d bytes", MaxSealed)
	}
	if Commit(salt, o.Content) != s.Commitment {
		return FieldErrorf(CodeInvalid, "sealed", "the content and salt do not open the entry's commitment")
	}
	return nil
}
