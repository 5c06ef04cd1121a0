package cli

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
)

// signer is what every signing command shares: a key file, a server or an
// output file, and the author's seq kept beside the key.
type signer struct {
	keyFile, server, token, out, origin, member string
	seq                                         uint64
	// prepare, if set, finishes the body once the log's origin is known
	// (a new key's proof of possession names it).
	prepare func(origin string) error
}

func (s *signer) register(fs *flag.FlagSet) {
	fs.StringVar(&s.keyFile, "key", envDefault("TRUCE_KEY", ""), "private key file of the author ($TRUCE_KEY)")
	fs.StringVar(&s.server, "server", envDefault("TRUCE_SERVER", ""), "server URL to submit to ($TRUCE_SERVER)")
	fs.StringVar(&s.token, "token", envDefault("TRUCE_TOKEN", ""), "API token ($TRUCE_TOKEN)")
	fs.StringVar(&s.out, "out", "", "write the signed envelope to this file instead of submitting (offline)")
	fs.StringVar(&s.origin, "origin", envDefault("TRUCE_ORIGIN", ""), "the log's origin; asked of the server when online ($TRUCE_ORIGIN)")
	fs.StringVar(&s.member, "author", "", "author id (default: the key file's Member header)")
	fs.Uint64Var(&s.seq, "seq", 0, "seq to sign with (default: one above the last known)")
}

// sealFile reads a JSON object from path and seals it: it returns the
// commitment for the entry and the opening to send beside it.
func sealFile(path string) (*truce.Sealed, *truce.Opening, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	content = bytes.TrimSpace(content)
	salt := make([]byte, 32)
	rand.Read(salt)
	o := &truce.Opening{Salt: hex.EncodeToString(salt), Content: content}
	sealed := &truce.Sealed{Commitment: truce.Commit(salt, content)}
	if err := o.Opens(*sealed); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return sealed, o, nil
}

// sign signs body as kind and submits it or writes it out; opening, if
// not nil, goes with it (and with the file, which then holds the sealed
// content: keep it as secret as the content).
func (s *signer) sign(e *env, kind string, body any, opening *truce.Opening) error {
	if s.keyFile == "" || (s.server == "") == (s.out == "") {
		return fmt.Errorf("give --key and exactly one of --server or --out")
	}
	env, bodyOpening, author, seq, err := s.envelope(e, kind, body)
	if err != nil {
		return err
	}
	c := client.New(s.server, s.token)
	var out any = env
	if opening != nil || bodyOpening != nil {
		out = map[string]any{"envelope": env, "opening": bodyOpening, "sealed": opening}
	}
	// Compact and without HTML escapes: an opening's content must reach
	// the server byte for byte as committed.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	wire := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if s.out != "" {
		if err := os.WriteFile(s.out, append(wire, '\n'), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "signed %s as %s seq %d into %s; submit it with: truce submit --server URL %s\n", kind, author, seq, s.out, s.out)
		return nil
	}
	return submitOne(e, c, wire, kind)
}

// envelope signs body as kind with the key file, at the author's next seq
// (asked of the server when online), sealed if it is about a record kept
// within the mechanism (asked of the server when online; offline, as the
// body says), checks it as the rules will, and marks the seq used. A
// sealed entry comes with the opening to send with it.
func (s *signer) envelope(e *env, kind string, body any) (env *dsse.Envelope, opening *truce.Opening, author string, seq uint64, err error) {
	k, err := entry.ReadKeyFile(s.keyFile)
	if err != nil {
		return nil, nil, "", 0, err
	}
	author = cmp.Or(s.member, k.Member)
	if author == "" {
		return nil, nil, "", 0, fmt.Errorf("%s names no member: pass --member", s.keyFile)
	}
	c := client.New(s.server, s.token)
	if s.origin == "" {
		if s.server == "" {
			return nil, nil, "", 0, fmt.Errorf("offline signing needs --origin (the log's origin)")
		}
		if s.origin, err = c.Origin(e.ctx); err != nil {
			return nil, nil, "", 0, fmt.Errorf("asking the server for its origin: %w", err)
		}
	}
	if s.prepare != nil {
		if err := s.prepare(s.origin); err != nil {
			return nil, nil, "", 0, err
		}
	}
	see := sequencer.Seer(func(rules.Ref) (truce.Visibility, bool) { return "", false })
	if s.server != "" {
		if see, err = c.Seer(e.ctx); err != nil {
			return nil, nil, "", 0, fmt.Errorf("asking the server which rules are in force: %w", err)
		}
	}
	seq = s.seq
	if seq == 0 {
		last := readSeq(s.keyFile)
		if s.server != "" {
			remote, err := c.Seq(e.ctx, author)
			if err != nil {
				return nil, nil, "", 0, fmt.Errorf("asking the server for %s's last seq: %w", author, err)
			}
			last = max(last, remote)
		}
		seq = last + 1
	}
	s.seq = 0 // a second entry takes the next seq, not this one
	if env, opening, err = sequencer.SignSealing(kind, s.origin, author, seq, time.Now(), body, k, see); err != nil {
		return nil, nil, "", 0, err
	}
	// Check what can be checked before anything leaves this machine.
	ent, err := entry.Open(env)
	if err == nil {
		if ent.Payload.Sealed != nil {
			err = ent.Unseal(*opening)
		}
		if err == nil {
			_, err = rules.Decode(ent)
		}
	}
	if err != nil {
		return nil, nil, "", 0, err
	}
	// The seq is used up once signed, sent or not.
	if err := writeSeq(s.keyFile, seq); err != nil {
		return nil, nil, "", 0, err
	}
	return env, opening, author, seq, nil
}

// submitOne posts a signed envelope, or {envelope, sealed}, as it is.
func submitOne(e *env, c *client.Client, wire []byte, what string) error {
	var ack truce.Ack
	if err := c.Do(e.ctx, "POST", "/api/v1/entries", wire, &ack); err != nil {
		return err
	}
	rec := ""
	if ack.Record != nil {
		rec = fmt.Sprintf(" as %s %s", ack.Record.Type, ack.Record.ID)
	}
	fmt.Fprintf(e.stdout, "logged %s%s at index %d (%s)\n", what, rec, ack.Index, ack.Logged.Format(time.RFC3339))
	return nil
}

func readSeq(keyFile string) uint64 {
	b, err := os.ReadFile(keyFile + ".seq")
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func writeSeq(keyFile string, seq uint64) error {
	tmp := keyFile + ".seq.tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, keyFile+".seq")
}

// parseTime accepts RFC 3339, a date, a date and time without zone (UTC),
// or a time relative to now: -3h, +2d.
func parseTime(s string) (time.Time, error) {
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		d, err := truce.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("bad relative time %q: use e.g. -3h or +2d", s)
		}
		if s[0] == '-' {
			d = -d
		}
		return time.Now().UTC().Add(time.Duration(d)).Truncate(time.Minute), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q: use 2026-10-20, 2026-10-20T14:30 (UTC), RFC 3339, or -3h / +2d from now", s)
}

func cmdAllege(e *env, args []string) error {
	fs := e.flags("allege")
	var s signer
	s.register(fs)
	bodyFile := fs.String("body", "", "JSON file with the whole allegation body (instead of the flags below)")
	sealedFile := fs.String("sealed", "", "JSON file of details to keep out of the log (witnesses, a source): sealed, shown only to the mechanism and your party")
	visibility := fs.String("visibility", "", "parties (default) or mechanism: a report for the mechanism and your party only")
	var f truce.AllegationFiling
	fs.StringVar(&f.Category, "category", "", "event category, e.g. shelling_artillery_missile, air_drone_strike, cross_border_infiltration")
	at := fs.String("at", "", "when it happened (2026-10-20, 2026-10-20T14:30 UTC, RFC 3339, or -3h from now)")
	until := fs.String("until", "", "end of the span, if it lasted")
	fs.IntVar(&f.Occurred.Precision, "precision", 1, "time precision: 1 day known, 2 week, 3 month")
	fs.Float64Var(&f.Place.Lat, "lat", 0, "latitude")
	fs.Float64Var(&f.Place.Lon, "lon", 0, "longitude")
	fs.IntVar(&f.Place.GeoPrecision, "geo-precision", 2, "place precision: 1 exact, 2 district, 3 province")
	fs.Float64Var(&f.Place.RadiusKM, "radius-km", 0, "radius of the area around the point")
	fs.StringVar(&f.Place.Country, "country", "", "territory: PK or AF")
	fs.StringVar(&f.Place.Admin1, "admin1", "", "province")
	fs.StringVar(&f.Place.Admin2, "admin2", "", "district")
	fs.StringVar(&f.Place.Location, "location", "", "place name")
	var clauses, sources listFlag
	fs.Var(&clauses, "clause", "clause allegedly breached (repeat or comma-separate)")
	fs.Var(&sources, "source", "source URL (repeatable)")
	perp := fs.String("perpetrator", "", "party:CODE, group:NAME, or unknown")
	fs.StringVar(&f.Perpetrator.OperatedFrom, "operated-from", "", "for a group: the party whose territory it operated from")
	fs.IntVar(&f.Casualties.Killed, "killed", 0, "people killed")
	fs.IntVar(&f.Casualties.Injured, "injured", 0, "people injured")
	fs.IntVar(&f.Casualties.CiviliansKilled, "civilians-killed", 0, "civilians among the killed")
	fs.IntVar(&f.Casualties.CiviliansInjured, "civilians-injured", 0, "civilians among the injured")
	fs.StringVar(&f.Narrative, "narrative", "", "what happened")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bodyFile != "" {
		raw, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		return s.sign(e, rules.KindAllegationFiled, json.RawMessage(raw), nil)
	}
	var opening *truce.Opening
	if *sealedFile != "" {
		var err error
		if f.Sealed, opening, err = sealFile(*sealedFile); err != nil {
			return err
		}
	}
	f.Visibility = *visibility
	var err error
	if *at == "" {
		return errors.New("--at is required")
	}
	if f.Occurred.From, err = parseTime(*at); err != nil {
		return err
	}
	if *until != "" {
		t, err := parseTime(*until)
		if err != nil {
			return err
		}
		f.Occurred.To = &t
	}
	switch kind, val, _ := strings.Cut(*perp, ":"); kind {
	case "party":
		f.Perpetrator.Kind, f.Perpetrator.Party = truce.PerpParty, val
	case "group":
		f.Perpetrator.Kind, f.Perpetrator.Group = truce.PerpNonState, val
	case "unknown":
		f.Perpetrator.Kind = truce.PerpUnknown
	default:
		return errors.New("--perpetrator must be party:CODE, group:NAME or unknown")
	}
	f.Clauses = clauses
	for _, u := range sources {
		f.Sources = append(f.Sources, truce.Source{URL: u})
	}
	return s.sign(e, rules.KindAllegationFiled, f, opening)
}

func cmdSubmit(e *env, args []string) error {
	fs := e.flags("submit")
	server := fs.String("server", envDefault("TRUCE_SERVER", ""), "server URL ($TRUCE_SERVER)")
	token := fs.String("token", envDefault("TRUCE_TOKEN", ""), "API token ($TRUCE_TOKEN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "server"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("name the envelope files to submit")
	}
	c := client.New(*server, *token)
	failed := 0
	for _, path := range fs.Args() {
		raw, err := os.ReadFile(path)
		if err == nil && !bytes.Contains(raw, []byte(`"envelope"`)) {
			_, err = entry.ParseEnvelope(raw) // say what is wrong before sending it
		}
		if err == nil {
			err = submitOne(e, c, raw, path)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "%s: %s\n", path, message(err))
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d not logged", failed, fs.NArg())
	}
	return nil
}
