package entry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

func testPayload() Payload {
	return Payload{Kind: "allegation.filed", Origin: "test.example/log", Author: "pk-liaison", Seq: 7,
		Time: time.Date(2026, 10, 20, 6, 0, 0, 0, time.UTC), Body: json.RawMessage(`{"category":"armed_clash"}`)}
}

func TestSignOpenVerify(t *testing.T) {
	k, _ := GenerateKey("pk-liaison")
	env, err := Sign(testPayload(), k)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(env)
	if err != nil {
		t.Fatal(err)
	}
	if e.Payload.Author != "pk-liaison" || e.Payload.Seq != 7 || e.Payload.V != Version || e.KeyID() != k.ID() {
		t.Fatalf("opened %+v", e.Payload)
	}
	pub, err := ParsePublicKey(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Verify(pub); err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey("x")
	otherPub, _ := ParsePublicKey(other.PublicKey())
	if err := e.Verify(otherPub); err == nil {
		t.Fatal("verified with another key")
	}
	// A leaf round-trips and keeps the envelope byte for byte.
	logged := time.Date(2026, 10, 20, 7, 0, 0, 123e6, time.UTC)
	leaf, err := EncodeLeaf(7, logged, env)
	if err != nil {
		t.Fatal(err)
	}
	gotLogged, e2, err := DecodeLeaf(leaf, 7)
	if err != nil || !gotLogged.Equal(logged) || e2.Envelope.Payload != env.Payload || e2.Verify(pub) != nil {
		t.Fatalf("DecodeLeaf = %v, %v", gotLogged, err)
	}
	if !bytes.HasPrefix(leaf, []byte(`{"index":7,"logged":"2026-10-20T07:00:00.123Z","envelope":{"payloadType":"application/vnd.truce.entry+json"`)) {
		t.Fatalf("leaf = %s", leaf)
	}
	// A leaf read at another index than it was logged at is refused.
	if _, _, err := DecodeLeaf(leaf, 6); err == nil || !strings.Contains(err.Error(), "logged as entry 7") {
		t.Fatalf("DecodeLeaf at the wrong index = %v", err)
	}
}

func TestOpenRefusesMalformed(t *testing.T) {
	k, _ := GenerateKey("a")
	good, _ := Sign(testPayload(), k)
	mutate := func(f func(p *Payload)) *dsse.Envelope {
		p := testPayload()
		f(&p)
		e, _ := Sign(p, k)
		return e
	}
	for name, env := range map[string]*dsse.Envelope{
		"wrong payload type": {PayloadType: "text/plain", Payload: good.Payload, Signatures: good.Signatures},
		"no signature":       {PayloadType: PayloadType, Payload: good.Payload},
		"two signatures":     {PayloadType: PayloadType, Payload: good.Payload, Signatures: append(good.Signatures, good.Signatures...)},
		"no key id":          {PayloadType: PayloadType, Payload: good.Payload, Signatures: []dsse.Signature{{Sig: good.Signatures[0].Sig}}},
		"payload not base64": {PayloadType: PayloadType, Payload: "!!!", Signatures: good.Signatures},
		"no kind":            mutate(func(p *Payload) { p.Kind = "" }),
		"no origin":          mutate(func(p *Payload) { p.Origin = "" }),
		"no author":          mutate(func(p *Payload) { p.Author = "" }),
		"seq 0":              mutate(func(p *Payload) { p.Seq = 0 }),
		"no time":            mutate(func(p *Payload) { p.Time = time.Time{} }),
		"body not object":    mutate(func(p *Payload) { p.Body = json.RawMessage(`[1]`) }),
		"version 2":          mutate(func(p *Payload) { p.V = 2 }),
	} {
		if _, err := Open(env); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	for _, raw := range []string{`{"payloadType":"x","payload":"","signatures":[],"extra":1}`, `{}{}`, `[]`, `{"payloadType":`} {
		if _, err := ParseEnvelope([]byte(raw)); err == nil {
			t.Errorf("ParseEnvelope(%s) accepted", raw)
		}
	}
}

// The fast verifier accepts exactly what crypto/ed25519 accepts.
func TestVerifierAgreesWithStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msg := make([]byte, rng.IntN(200))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		sig := ed25519.Sign(priv, msg)
		switch i % 4 {
		case 1:
			sig[rng.IntN(64)] ^= byte(1 << rng.IntN(8))
		case 2:
			if len(msg) > 0 {
				msg[rng.IntN(len(msg))] ^= 1
			}
		case 3: // S not reduced: crypto/ed25519 refuses it
			sig[63] |= 0xf0
		}
		k, err := NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := voi.VerifyExpandedWithOptions(k.exp, msg, sig, stdlibRules), ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("case %d: fast verifier says %v, crypto/ed25519 %v", i, got, want)
		}
	}
	// About half of all y coordinates are on no point of the curve.
	refused := 0
	for y := byte(0); y < 16; y++ {
		b := make([]byte, 32)
		b[0] = y
		if _, err := NewPublicKey(b); err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("accepted every byte string as a public key")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	k, _ := GenerateKey("pk-liaison")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	if err := WriteKeyFile(path, k); err == nil {
		t.Fatal("overwrote an existing key file")
	}
	k2, err := ReadKeyFile(path)
	if err != nil || k2.Member != "pk-liaison" || !k2.Key.Equal(k.Key) {
		t.Fatalf("ReadKeyFile = %v, %v", k2, err)
	}
	if _, err := ParsePublicKey(strings.TrimPrefix(k.PublicKey(), "ed25519:")); err == nil {
		t.Fatal("parsed a public key without its prefix")
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")); err == nil {
		t.Fatal("parsed garbage as a private key")
	}
}

func FuzzDecodeLeaf(f *testing.F) {
	k, _ := GenerateKey("a")
	env, _ := Sign(testPayload(), k)
	leaf, _ := EncodeLeaf(3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), env)
	f.Add(leaf)
	f.Add([]byte(`{"index":3,"logged":"2026-01-01T00:00:00Z","envelope":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		logged, e, err := DecodeLeaf(b, 3)
		if err != nil {
			return
		}
		if logged.IsZero() || e.Payload.Seq == 0 || e.Payload.Kind == "" || len(e.Envelope.Signatures) != 1 {
			t.Fatalf("decoded an invalid leaf: %+v", e.Payload)
		}
		// What decodes re-encodes to a leaf that decodes the same.
		again, err := EncodeLeaf(3, logged, e.Envelope)
		if err != nil && len(b) <= MaxLeafSize {
			t.Fatalf("re-encoding: %v", err)
		}
		if err == nil {
			if _, e2, err := DecodeLeaf(again, 3); err != nil || e2.Payload.Seq != e.Payload.Seq {
				t.Fatalf("re-encoded leaf does not decode: %v", err)
			}
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	k, _ := GenerateKey("a")
	env, _ := Sign(testPayload(), k)
	b, _ := json.Marshal(env)
	f.Add(b)
	f.Add([]byte(`{"payloadType":"application/vnd.truce.entry+json","payload":"e30=","signatures":[{"keyid":"x","sig":"AA=="}]}`))
	pub, _ := ParsePublicKey(k.PublicKey())
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ParseEnvelope(b)
		if err != nil {
			return
		}
		e, err := Open(env)
		if err != nil {
			return
		}
		// Only the one signed payload verifies under the key.
		if e.Verify(pub) == nil && env.Payload != mustB64Payload(t, b) {
			t.Fatal("verified a payload that was not signed")
		}
	})
}

func mustB64Payload(t *testing.T, b []byte) string {
	var env dsse.Envelope
	json.Unmarshal(b, &env)
	return env.Payload
}

// Canonical refuses what would mean different things to different JSON
// readers, and takes what Go's encoder writes.
func TestCanonical(t *testing.T) {
	for _, ok := range []string{
		`{"a":1,"b":[1,2.5,-3,1e+21,0.000001,1e-7],"c":{"a_1":"x\n\u00e9é😀 Ünï"},"d":null,"e":true}`,
		`{"narrative":"x","place":{"lat":34.05,"lon":-71.1}}`,
		`{"seq":9007199254740992}`,
	} {
		if err := Canonical([]byte(ok)); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for bad, why := range map[string]string{
		`{"narrative":"a","NARRATIVE":"b"}`:      "not lowercase ASCII",
		`{"response":"deny","response":"admit"}`: "given twice",
		`{"a":{"b":1,"B":2}}`:                    "not lowercase ASCII",
		`{"response":"deny","reſponse":"admit"}`: "not lowercase ASCII",
		`{"Response":"admit"}`:                   "not lowercase ASCII",
		`{"\u0073eq":1,"seq":2}`:                 "given twice",
		"{\"a\":\"\xff\"}":                       "UTF-8",
		`{"a":"\ud800"}`:                         "surrogate",
		`{"seq":18446744073709551615}`:           "2^53",
		`{"seq":9007199254740993}`:               "2^53",
		`{"a":1.0}`:                              "shortest",
		`{"a":1e2}`:                              "shortest",
		`{"a":-0}`:                               "-0",
	} {
		if err := Canonical([]byte(bad)); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v, want %q", bad, err, why)
		}
	}
	// What Go writes for any payload it marshals passes.
	p := Payload{V: 1, Kind: "k", Origin: "o", Author: "a", Seq: 3, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Body: json.RawMessage(`{"x":0.1}`)}
	b, _ := json.Marshal(p)
	if err := Canonical(b); err != nil {
		t.Errorf("a marshalled payload: %v", err)
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c"}]}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if Canonical(b) != nil {
			return
		}
		// What passes is JSON, and reads back to a value that writes out
		// to the same canonical form.
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("canonical but not JSON: %q", b)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if Canonical(again) != nil {
			t.Fatalf("%q reads to %q, which is not canonical", b, again)
		}
	})
}

// CheckCanonical remembers its answer, and the answer is the check's:
// for a canonical payload and for one that is not, asked twice, and from
// goroutines at once (go test -race).
func TestCheckCanonicalRemembers(t *testing.T) {
	k, _ := GenerateKey("pk-liaison")
	good, err := Sign(testPayload(), k)
	if err != nil {
		t.Fatal(err)
	}
	bad := *good
	bad.Payload = base64.StdEncoding.EncodeToString([]byte(`{"v":1,"kind":"allegation.filed","origin":"o","author":"pk-liaison","seq":7,"time":"2026-10-20T06:00:00Z","body":{"a":1.0}}`))
	for _, c := range []struct {
		env  *dsse.Envelope
		want string
	}{{good, ""}, {&bad, "shortest"}} {
		e, err := Open(c.env)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 2 {
					err := e.CheckCanonical()
					if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
						t.Errorf("CheckCanonical = %v, want %q", err, c.want)
					}
				}
			}()
		}
		wg.Wait()
	}
	if err := (&Entry{}).CheckCanonical(); err == nil {
		t.Error("an entry not opened from an envelope passed")
	}
}

// FuzzCanonicalAgrees holds the one-pass check to the reading it
// replaced, token by token through encoding/json's decoder: the same
// bytes pass or fail both.
func FuzzCanonicalAgrees(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c"}]}`, `{"a":1,"a":2}`, `{"\u0073eq":1,"seq":2}`, `[{"a":1},{"a":1}]`,
		`{"a":"x\"y","b":"\\"}`, `{"a":1e21}`, `{"a":-0.5,"b":[true,false,null]}`, `{} {}`, `{"a":}`, ` "x" `, `{"a":{"b":{}},"b":1}`} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5,"b6":6,"a3":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := Canonical(b), canonicalByTokens(b)
		if (got == nil) != (want == nil) {
			t.Fatalf("%q: Canonical = %v, by tokens = %v", b, got, want)
		}
	})
}

// canonicalByTokens is Canonical as it first was: slower, and obviously
// right.
func canonicalByTokens(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("not valid UTF-8")
	}
	if i := surrogateEscape(b); i >= 0 {
		return fmt.Errorf("a string escapes half of a surrogate pair at byte %d: write the character as UTF-8", i)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		object bool
		key    bool // the next token of an object is a name
		names  map[string]string
	}
	var stack []*frame
	values := 0 // complete top-level values
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(stack) == 0 {
			if values++; values > 1 {
				return fmt.Errorf("more than one JSON value")
			}
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if delim, ok := tok.(json.Delim); ok && delim == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name := tok.(string)
			if !plainName(name) {
				return fmt.Errorf("the name %q is not lowercase ASCII letters, digits and underscores", name)
			}
			if _, ok := top.names[name]; ok {
				return fmt.Errorf("the name %q is given twice in one object", name)
			}
			top.names[name] = name
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // after this value, a name or the end
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, key: true, names: map[string]string{}})
			case '[':
				stack = append(stack, &frame{})
			default: // ']'
				stack = stack[:len(stack)-1]
			}
		case json.Number:
			if err := canonicalNumber(string(t)); err != nil {
				return err
			}
		}
	}
	if values != 1 || len(stack) != 0 {
		return fmt.Errorf("not one complete JSON value")
	}
	return nil
}
