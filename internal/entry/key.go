package entry

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// PrivateKey is a member's signing key, with the member it belongs to.
type PrivateKey struct {
	Member string
	Key    ed25519.PrivateKey
}

// GenerateKey makes a new key for member.
func GenerateKey(member string) (*PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{Member: member, Key: priv}, nil
}

// PublicKey returns k's public key in text form.
func (k *PrivateKey) PublicKey() string { return FormatPublicKey(k.Key.Public().(ed25519.PublicKey)) }

// ID returns k's key id.
func (k *PrivateKey) ID() string { return KeyID(k.Key.Public().(ed25519.PublicKey)) }

const publicPrefix = "ed25519:"

// FormatPublicKey writes a public key as "ed25519:" + base64.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return publicPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a key written by FormatPublicKey.
func ParsePublicKey(s string) (*PublicKey, error) {
	b64, ok := strings.CutPrefix(s, publicPrefix)
	if !ok {
		return nil, fmt.Errorf("public key must start with %q", publicPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key is not 32 bytes of base64")
	}
	return NewPublicKey(ed25519.PublicKey(b))
}

// KeyID is the key's DSSE key id: its SHA-256 fingerprint as OpenSSH prints
// it, so people can compare it with ssh-keygen -l.
func KeyID(pub ed25519.PublicKey) string {
	id, err := dsse.SHA256KeyID(pub)
	if err != nil {
		panic(err) // only for key types ssh does not know
	}
	return id
}

const pemType = "PRIVATE KEY"

// MarshalPrivateKey encodes k as PKCS #8 PEM with a Member header.
func MarshalPrivateKey(k *PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Headers: map[string]string{"Member": k.Member}, Bytes: der}), nil
}

// ParsePrivateKey decodes a key written by MarshalPrivateKey.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != pemType {
		return nil, errors.New("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 key")
	}
	return &PrivateKey{Member: block.Headers["Member"], Key: priv}, nil
}

// WriteKeyFile writes k to a new file readable only by its owner.
func WriteKeyFile(path string, k *PrivateKey) error {
	b, err := MarshalPrivateKey(k)
	if err != nil {
		return err
	}
	return WriteSecretFile(path, b)
}

// WriteSecretFile writes b to a new file (never over an old one) readable
// only by its owner, and syncs it.
func WriteSecretFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadKeyFile reads a key file.
func ReadKeyFile(path string) (*PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// signer and verifier adapt Ed25519 keys to DSSE.
type signer struct{ key ed25519.PrivateKey }

func (s signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(s.key, data), nil
}
func (s signer) KeyID() (string, error) { return KeyID(s.key.Public().(ed25519.PublicKey)), nil }

type verifier struct{ k *PublicKey }

func (v verifier) Verify(_ context.Context, data, sig []byte) error {
	if !voi.VerifyExpandedWithOptions(v.k.exp, data, sig, stdlibRules) {
		return errors.New("bad signature")
	}
	return nil
}
func (v verifier) KeyID() (string, error)   { return v.k.ID, nil }
func (v verifier) Public() crypto.PublicKey { return v.k.Key }

// PublicKey is a registered key made ready for verification. Verifying
// with a precomputed expansion of the key (curve25519-voi) takes half the
// time of crypto/ed25519, with crypto/ed25519's acceptance rules.
type PublicKey struct {
	Key ed25519.PublicKey
	ID  string
	exp *voi.ExpandedPublicKey
}

// stdlibRules makes curve25519-voi accept exactly what crypto/ed25519
// accepts, so every verifier of the log agrees.
var stdlibRules = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// NewPublicKey prepares pub for verification; it fails for byte strings
// that are not a point of the curve.
func NewPublicKey(pub ed25519.PublicKey) (*PublicKey, error) {
	exp, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil, fmt.Errorf("not an Ed25519 public key: %w", err)
	}
	return &PublicKey{Key: pub, ID: KeyID(pub), exp: exp}, nil
}

// PossessionMessage is what a key signs to show that whoever adds it to a
// member holds it: the log, the member and the key, so that a proof serves
// for nothing else.
func PossessionMessage(origin, member, keyID string) []byte {
	return []byte("truce key possession v1\n" + origin + "\n" + member + "\n" + keyID + "\n")
}

// ProvePossession signs the possession message for member on the log
// origin with k, base64.
func (k *PrivateKey) ProvePossession(origin, member string) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(k.Key, PossessionMessage(origin, member, k.ID())))
}

// VerifyPossession checks a proof made by ProvePossession with k.
func (k *PublicKey) VerifyPossession(origin, member, proof string) bool {
	sig, err := base64.StdEncoding.DecodeString(proof)
	return err == nil && len(sig) == ed25519.SignatureSize &&
		voi.VerifyExpandedWithOptions(k.exp, PossessionMessage(origin, member, k.ID), sig, stdlibRules)
}
