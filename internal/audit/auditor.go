package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
)

// AuditorConfig says which log to audit and what to trust.
type AuditorConfig struct {
	// URL is the server (http://host:port; a trailing /log is accepted).
	URL string
	// Token is a member's API token. It lets the auditor read the log if
	// it is not public, and compare the API's records and overdue set
	// with the log's, as far as that member may see them.
	Token string
	// StateDir keeps what the auditor verified between runs: the keys it
	// trusts, the last checkpoint it trusted and the entries (full
	// bundles) it checked. "" keeps nothing.
	StateDir string
	// LogKey pins the log's verifier key; "" trusts the key the server
	// gives on first use (and the state directory's after that).
	LogKey string
	// WitnessKeys pin the cosignature keys required; nil trusts the
	// server's list on first use.
	WitnessKeys []string
	// Quorum is how many of them must cosign; < 0: all of them.
	Quorum   int
	Progress Progress
	Logger   *slog.Logger
}

// Round is what one check found.
type Round struct {
	Size      int64
	Root      tlog.Hash
	Cosigners []string
	New       int64 // entries beyond the checkpoint trusted before
	Records   int   // records compared with the API
	Overdue   int   // overdue items compared; -1 if not compared this round
	// Sealed is how many sealed entries were opened and checked in full;
	// Unchecked lists the entries of this round whose rules could not be
	// (no opening, or built on such an entry), and Uncompared is how many
	// records could not be compared because of them.
	Sealed     int64
	Unchecked  []Unchecked
	Uncompared int
	Notes      []string
}

// trust is what the auditor keeps in StateDir/trust.json.
type trust struct {
	URL        string   `json:"url"`
	LogKey     string   `json:"log_key"`
	Witnesses  []string `json:"witness_keys"`
	Quorum     int      `json:"quorum"`
	Size       int64    `json:"size"`
	Root       string   `json:"root,omitempty"`
	Checkpoint string   `json:"checkpoint,omitempty"`
}

// Auditor checks a log over HTTP the way a party would, trusting nothing
// the server computed: it reads the entries and recomputes the tree, checks
// every checkpoint it is shown against the last it trusted and for the
// witnesses' cosignatures, checks every signature and rule, and compares
// the records the API publishes with those the log gives.
type Auditor struct {
	cfg       AuditorConfig
	api       *client.Client
	origin    string
	logKey    note.Verifier
	witnesses []note.Verifier
	quorum    int
	access    *truce.Access // nil: no token, no API comparison
	chk       *checker
	trusted   trust
	notes     []string
	// openings are the openings of sealed entries this member may read.
	openings   map[string]*truce.Opening
	uncompared int
}

const trustFile = "trust.json"

// NewAuditor pins the keys, loads what StateDir holds and re-checks the
// entries kept there.
func NewAuditor(ctx context.Context, cfg AuditorConfig) (*Auditor, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(cfg.URL, "/"), "/log")
	a := &Auditor{cfg: cfg, api: client.New(base, cfg.Token)}
	if cfg.StateDir != "" {
		if err := os.MkdirAll(filepath.Join(cfg.StateDir, "entries"), 0o700); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(filepath.Join(cfg.StateDir, trustFile))
		switch {
		case err == nil:
			if err := json.Unmarshal(b, &a.trusted); err != nil {
				return nil, fmt.Errorf("%s: %w", trustFile, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
	}
	if err := a.pinKeys(ctx); err != nil {
		return nil, err
	}
	if cfg.Token != "" {
		var who struct {
			Member *truce.Member `json:"member"`
		}
		if err := a.get(ctx, "/api/v1/session", &who); err != nil {
			return nil, fmt.Errorf("the token: %w", err)
		}
		a.access = policy.AccessOf(policy.Viewer{Member: who.Member})
	} else {
		a.notes = append(a.notes, "no token: the API's records are not compared with the log")
	}
	a.openings = map[string]*truce.Opening{}
	if err := a.fetchOpenings(ctx, 0); err != nil {
		return nil, err
	}
	var err error
	if a.chk, err = newChecker(ctx, func(_ int64, c string) *truce.Opening { return a.openings[c] }); err != nil {
		return nil, err
	}
	if err := a.loadEntries(ctx); err != nil {
		a.chk.close()
		return nil, err
	}
	a.chk.bundles = true // from here on: the bundles kept on disk are not needed in memory
	return a, a.save()
}

// pinKeys settles the keys to trust: given, else remembered, else the
// server's (trust on first use, said in a note).
func (a *Auditor) pinKeys(ctx context.Context) error {
	t := &a.trusted
	switch {
	case a.cfg.LogKey != "" && t.LogKey != "" && a.cfg.LogKey != t.LogKey:
		return fmt.Errorf("--log-key differs from the key this state directory trusts (%s)", t.LogKey)
	case a.cfg.LogKey != "":
		t.LogKey = a.cfg.LogKey
	case t.LogKey == "":
		var raw []byte
		if err := a.get(ctx, "/log/vkey", &raw); err != nil {
			return err
		}
		t.LogKey = strings.TrimSpace(string(raw))
		a.notes = append(a.notes, "trusting the log key the server gives, on first use: "+t.LogKey)
	}
	var err error
	if a.logKey, err = note.NewVerifier(t.LogKey); err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	a.origin = a.logKey.Name()

	remembered := t.URL != ""
	switch {
	case a.cfg.WitnessKeys != nil:
		if remembered && !slices.Equal(a.cfg.WitnessKeys, t.Witnesses) {
			a.notes = append(a.notes, "the witness keys given replace those this state directory trusted")
		}
		t.Witnesses = a.cfg.WitnessKeys
	case !remembered:
		var peers []struct {
			VKey string `json:"vkey"`
		}
		if err := a.get(ctx, "/log/witnesses", &peers); err != nil {
			return err
		}
		t.Witnesses = nil
		for _, p := range peers {
			t.Witnesses = append(t.Witnesses, p.VKey)
		}
		if len(peers) > 0 {
			a.notes = append(a.notes, fmt.Sprintf("trusting the %d witness keys the server lists, on first use", len(peers)))
		}
	}
	a.witnesses = nil
	for _, k := range t.Witnesses {
		v, err := fnote.NewVerifierForCosignatureV1(k)
		if err != nil {
			return fmt.Errorf("witness key %q: %w", k, err)
		}
		a.witnesses = append(a.witnesses, v)
	}
	switch {
	case a.cfg.Quorum >= 0:
		t.Quorum = a.cfg.Quorum
	case a.cfg.WitnessKeys != nil || !remembered:
		t.Quorum = len(a.witnesses)
	}
	if t.Quorum > len(a.witnesses) {
		return fmt.Errorf("a quorum of %d with %d witness keys", t.Quorum, len(a.witnesses))
	}
	a.quorum = t.Quorum
	t.URL = a.api.Base
	return nil
}

// Close stops the auditor's signature workers.
func (a *Auditor) Close() { a.chk.close() }

// get fetches path into out (JSON, or raw bytes for *[]byte), waiting out
// rate limits and brief unavailability.
func (a *Auditor) get(ctx context.Context, path string, out any) error {
	var err error
	for attempt := 1; attempt <= 8; attempt++ {
		err = a.api.Do(ctx, "GET", path, nil, out)
		var te *truce.Error
		if !errors.As(err, &te) || (te.Code != truce.CodeRateLimited && te.Code != truce.CodeUnavailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
		}
	}
	return err
}

// bundlePath is where full entry bundle n is kept.
func (a *Auditor) bundlePath(n int64) string {
	return filepath.Join(a.cfg.StateDir, "entries", fmt.Sprintf("%09d", n))
}

// loadEntries re-checks the entries kept from earlier runs.
func (a *Auditor) loadEntries(ctx context.Context) error {
	if a.cfg.StateDir == "" {
		return nil
	}
	for n := int64(0); (n+1)*tlog.TileWidth <= a.trusted.Size; n++ {
		b, err := os.ReadFile(a.bundlePath(n))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		entries, err := tlog.BundleEntries(b)
		if err != nil || len(entries) != tlog.TileWidth {
			return fmt.Errorf("kept bundle %d is damaged; remove %s to fetch it again", n, a.bundlePath(n))
		}
		if err := a.chk.addAll(ctx, n*tlog.TileWidth, entries); err != nil {
			return err
		}
		if a.cfg.Progress != nil {
			a.cfg.Progress(a.chk.size(), a.trusted.Size)
		}
	}
	return a.chk.settle(ctx)
}

// save writes the trust state, atomically.
func (a *Auditor) save() error {
	if a.cfg.StateDir == "" {
		return nil
	}
	b, err := json.MarshalIndent(a.trusted, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(a.cfg.StateDir, trustFile), append(b, '\n'))
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Check fetches the newest checkpoint and checks the log up to it, then
// compares the API with the log. A *Problem is a finding about the log;
// other errors are failures to reach it.
func (a *Auditor) Check(ctx context.Context) (*Round, error) {
	r := &Round{Overdue: -1, Notes: a.notes}
	a.notes = nil
	cp, raw, err := a.checkpoint(ctx, r)
	if err != nil {
		return r, err
	}
	r.Size, r.Root = cp.Size, cp.Root
	r.New = cp.Size - a.trusted.Size
	before := len(a.chk.unchecked)
	if err := a.fetchOpenings(ctx, a.chk.size()); err != nil {
		return r, err
	}
	if err := a.follow(ctx, cp); err != nil {
		return r, err
	}
	a.trusted.Size, a.trusted.Root, a.trusted.Checkpoint = cp.Size, cp.Root.String(), string(raw)
	if err := a.save(); err != nil {
		return r, err
	}
	if a.access != nil {
		a.uncompared = 0
		if err := a.compareAPI(ctx, r); err != nil {
			return r, err
		}
		r.Uncompared = a.uncompared
	}
	r.Sealed, r.Unchecked = a.chk.opened, a.chk.unchecked[before:]
	for _, k := range a.chk.state.Unconsented() {
		r.Notes = append(r.Notes, UnconsentedNote(k))
	}
	return r, nil
}

// UnconsentedNote says what a key added without its group's consent means.
func UnconsentedNote(k rules.UnconsentedKey) string {
	return fmt.Sprintf("WARNING: key %s of %s was added at entry %d by someone other than %s, under rules that did not ask its party's or state's consent: what it signs is not known to be %s's (revoke it, or have the member add a key of its own)",
		k.Key, k.Member, k.Added, k.Member, k.Member)
}

// fetchOpenings reads the openings of the sealed entries from index from
// on that this member may read (none without a token).
func (a *Auditor) fetchOpenings(ctx context.Context, from int64) error {
	if a.cfg.Token == "" {
		return nil
	}
	for {
		var page wire.Openings
		if err := a.get(ctx, fmt.Sprintf("/api/v1/openings?from=%d", from), &page); err != nil {
			return fmt.Errorf("the openings of sealed entries: %w", err)
		}
		for _, o := range page.Items {
			a.openings[o.Commitment] = &truce.Opening{Salt: o.Salt, Content: o.Content}
		}
		if page.Next == 0 {
			return nil
		}
		from = page.Next
	}
}

// checkpoint fetches the newest checkpoint and checks it against the log's
// key, the checkpoint trusted last, and the witnesses' cosignatures.
func (a *Auditor) checkpoint(ctx context.Context, r *Round) (tlog.Checkpoint, []byte, error) {
	var raw []byte
	if err := a.get(ctx, "/log/checkpoint", &raw); err != nil {
		return tlog.Checkpoint{}, nil, err
	}
	cp, err := tlog.OpenCheckpoint(raw, a.origin, a.logKey)
	if err != nil {
		return cp, nil, &Problem{-1, fmt.Sprintf("the checkpoint does not verify with the log's key: %v", err)}
	}
	t := a.trusted
	if cp.Size < t.Size {
		return cp, nil, &Problem{cp.Size, fmt.Sprintf("ALARM: the log shows a checkpoint of %d entries after one of %d: it was rolled back or forked", cp.Size, t.Size)}
	}
	if cp.Size == t.Size && t.Root != "" && cp.Root.String() != t.Root {
		return cp, nil, &Problem{-1, fmt.Sprintf("ALARM: the log forked: two checkpoints of %d entries with different roots (%s trusted, %s now)", cp.Size, t.Root, cp.Root)}
	}
	n, err := note.Open(raw, note.VerifierList(append([]note.Verifier{a.logKey}, a.witnesses...)...))
	if err != nil {
		return cp, nil, &Problem{-1, fmt.Sprintf("the checkpoint: %v", err)}
	}
	for _, s := range n.Sigs {
		if s.Name != a.origin {
			r.Cosigners = append(r.Cosigners, s.Name)
		}
	}
	if len(r.Cosigners) < a.quorum {
		return cp, nil, &Problem{-1, fmt.Sprintf("ALARM: the checkpoint of %d entries carries %d of the %d witness cosignatures required: the witnesses have not checked it", cp.Size, len(r.Cosigners), a.quorum)}
	}
	return cp, raw, nil
}

// follow reads and checks the entries from where the auditor is up to the
// checkpoint, and the server's tiles over them.
func (a *Auditor) follow(ctx context.Context, cp tlog.Checkpoint) error {
	old := a.chk.size()
	// Bundles are fetched a few ahead of the checking, so that the network
	// and the signature checks overlap.
	fetchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		bundle []byte
		err    error
	}
	ahead := make(chan fetched, 4)
	go func() {
		defer close(ahead)
		for n := old / tlog.TileWidth; n*tlog.TileWidth < cp.Size; n++ {
			w := min(tlog.TileWidth, cp.Size-n*tlog.TileWidth)
			var f fetched
			f.err = a.get(fetchCtx, "/log/"+tlog.TilePath(tlog.Tile{H: tlog.TileHeight, L: -1, N: n, W: int(w)}), &f.bundle)
			select {
			case ahead <- f:
			case <-fetchCtx.Done():
				return
			}
			if f.err != nil {
				return
			}
		}
	}()
	for n := old / tlog.TileWidth; n*tlog.TileWidth < cp.Size; n++ {
		w := min(tlog.TileWidth, cp.Size-n*tlog.TileWidth)
		f, ok := <-ahead
		if !ok {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errors.New("the bundles stopped coming") // cannot happen: the fetcher stops only on an error it sends
		}
		if f.err != nil {
			return f.err
		}
		bundle := f.bundle
		entries, err := tlog.BundleEntries(bundle)
		if err != nil {
			return &Problem{n * tlog.TileWidth, fmt.Sprintf("entry bundle %d is malformed: %v", n, err)}
		}
		// Entries already checked must not have changed.
		if mine, ok := a.chk.tiles[[2]int64{-1, n}]; ok {
			kept, _ := tlog.BundleEntries(mine)
			for i := range kept {
				if i < len(entries) && !bytes.Equal(kept[i], entries[i]) {
					return &Problem{n*tlog.TileWidth + int64(i), "ALARM: the entry differs from the one this auditor checked earlier"}
				}
			}
		}
		// Check what entries there are first: an entry removed or moved is
		// named by the first entry out of place.
		if from, to := a.chk.size()-n*tlog.TileWidth, min(w, int64(len(entries))); from < to {
			if err := a.chk.addAll(ctx, a.chk.size(), entries[from:to]); err != nil {
				return err
			}
		}
		if int64(len(entries)) != w {
			return &Problem{n*tlog.TileWidth + min(w, int64(len(entries))), fmt.Sprintf("entry bundle %d holds %d entries; the checkpoint needs %d", n, len(entries), w)}
		}
		if a.cfg.Progress != nil {
			a.cfg.Progress(a.chk.size(), cp.Size)
		}
	}
	if err := a.chk.settle(ctx); err != nil {
		return err
	}
	if in := a.chk.state.Instance; in != nil && in.LogKey != a.trusted.LogKey {
		return &Problem{0, fmt.Sprintf("the log declares its checkpoint key to be %s, not the key trusted", in.LogKey)}
	}
	// The server's tiles serve everyone's proofs: they must be the ones the
	// entries give.
	served := func(t tlog.Tile) ([]byte, error) {
		var got []byte
		return got, a.get(ctx, "/log/"+tlog.TilePath(t), &got)
	}
	if err := compareTiles(a.chk.tiles, old, cp.Size, "ALARM: the server's", served); err != nil {
		return err
	}
	// (The auditor may have read further in a round that failed.)
	root, err := tlog.RootAt(ctx, a.chk.tiles, cp.Size)
	if err != nil {
		return err
	}
	if root != cp.Root {
		return &Problem{-1, fmt.Sprintf("ALARM: the entries the server serves give root %s; its checkpoint says %s", root, cp.Root)}
	}
	// Keep the full bundles for the next run, on disk: in memory, only the
	// last, partial one is kept, for the next round to compare with.
	for n := old / tlog.TileWidth; (n+1)*tlog.TileWidth <= cp.Size; n++ {
		if a.cfg.StateDir != "" {
			if err := writeAtomic(a.bundlePath(n), a.chk.tiles[[2]int64{-1, n}]); err != nil {
				return err
			}
		}
		delete(a.chk.tiles, [2]int64{-1, n})
	}
	return nil
}

// Follow checks the log every interval until ctx ends or a problem is
// found, calling report after each round.
func (a *Auditor) Follow(ctx context.Context, every time.Duration, report func(*Round, error)) error {
	for {
		r, err := a.Check(ctx)
		report(r, err)
		if IsProblem(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}
