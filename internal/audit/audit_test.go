package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"

	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/tlog"
)

// newLog makes a closed instance with n allegations and returns its dir.
func newLog(t *testing.T, n int) *testkit.Env {
	t.Helper()
	env := testkit.New(t, instance.Options{})
	for i := 0; i < n; i++ {
		author := testkit.MonitorID(1 + i%testkit.Monitors)
		env.Submit(t, env.Signers[author].Sign(t, rules.KindAllegationFiled, testkit.Allegation([]string{"AF", "PK"}[i%2], i)))
	}
	env.In.Close()
	env.In = nil
	return env
}

func openStore(t testing.TB, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, instance.DBFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, instance.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func verify(t *testing.T, dir string) (*audit.Report, error) {
	t.Helper()
	st := openStore(t, dir)
	origin, _ := st.Meta(context.Background(), instance.MetaOrigin)
	vkey, _ := st.Meta(context.Background(), instance.MetaVKey)
	v, err := noteVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Verify(context.Background(), st, origin, v, nil)
}

func TestCleanLogVerifiesAndReplays(t *testing.T) {
	env := newLog(t, 600)
	rep, err := verify(t, env.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size < 600 || rep.Signatures != rep.Size || rep.Checkpoints == 0 {
		t.Fatalf("report = %+v", rep)
	}
	rr, err := audit.Replay(context.Background(), openStore(t, env.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if rr.Entries != rep.Size || rr.Records < 600 {
		t.Fatalf("replay report = %+v", rr)
	}
}

// editEntry rewrites entry i's bundle with edit applied to the entry.
func editEntry(t *testing.T, db *sql.DB, i int64, edit func(leaf []byte)) {
	t.Helper()
	rewriteBundle(t, db, i/tlog.TileWidth, func(entries [][]byte) [][]byte {
		leaf := entries[i%tlog.TileWidth]
		before := bytes.Clone(leaf)
		edit(leaf)
		if bytes.Equal(before, leaf) {
			t.Fatal("edit changed nothing")
		}
		return entries
	})
}

// rewriteBundle replaces entry bundle n in the database with what rewrite
// makes of its entries.
func rewriteBundle(t *testing.T, db *sql.DB, n int64, rewrite func(entries [][]byte) [][]byte) {
	t.Helper()
	rows, err := db.Query(`SELECT data FROM bundles WHERE n = ? ORDER BY first`, n)
	if err != nil {
		t.Fatal(err)
	}
	var bundle []byte
	for rows.Next() {
		var frag []byte
		rows.Scan(&frag)
		bundle = append(bundle, frag...)
	}
	rows.Close()
	entries, err := tlog.BundleEntries(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, e := range rewrite(entries) {
		out, _ = tlog.AppendBundleEntry(out, e)
	}
	if _, err := db.Exec(`DELETE FROM bundles WHERE n = ?`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO bundles (n, first, data) VALUES (?, 0, ?)`, n, out); err != nil {
		t.Fatal(err)
	}
}

// An entry deleted from the stored log, or two entries swapped: verify
// names the first entry out of place.
func TestVerifyNamesDeletedAndReorderedEntries(t *testing.T) {
	const k = 300
	for name, rewrite := range map[string]func([][]byte) [][]byte{
		"deleted": func(e [][]byte) [][]byte {
			return append(append([][]byte{}, e[:k%tlog.TileWidth]...), e[k%tlog.TileWidth+1:]...)
		},
		"reordered": func(e [][]byte) [][]byte { i := k % tlog.TileWidth; e[i], e[i+1] = e[i+1], e[i]; return e },
	} {
		t.Run(name, func(t *testing.T) {
			env := newLog(t, 400)
			rewriteBundle(t, rawDB(t, env.Dir), k/tlog.TileWidth, rewrite)
			_, err := verify(t, env.Dir)
			var p *audit.Problem
			if !asProblem(err, &p) || p.Index != k || !strings.Contains(p.What, "logged as entry") {
				t.Fatalf("Verify = %v, want a problem at entry %d", err, k)
			}
		})
	}
}

func TestVerifyNamesTheTamperedEntry(t *testing.T) {
	for _, c := range []struct {
		name   string
		target int64
		edit   func(leaf []byte) // changes one byte
	}{
		{"payload byte", 300, func(l []byte) { i := bytes.Index(l, []byte(`"payload":"`)) + 20; l[i] ^= 1 }},
		{"signature byte", 301, func(l []byte) { i := bytes.Index(l, []byte(`"sig":"`)) + 10; l[i] = 'A' + (l[i]-'A'+1)%26 }},
		{"logged time", 302, func(l []byte) { i := bytes.Index(l, []byte(`"logged":"2026-`)) + 13; l[i] = '2' }},
		{"JSON structure", 303, func(l []byte) { l[0] = '[' }},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newLog(t, 400)
			if _, err := verify(t, env.Dir); err != nil {
				t.Fatal(err)
			}
			editEntry(t, rawDB(t, env.Dir), c.target, c.edit)
			_, err := verify(t, env.Dir)
			var p *audit.Problem
			if !asProblem(err, &p) || p.Index != c.target {
				t.Fatalf("Verify = %v, want a problem at entry %d", err, c.target)
			}
		})
	}
}

func TestVerifyCatchesTamperedTilesAndCheckpoints(t *testing.T) {
	env := newLog(t, 300)
	db := rawDB(t, env.Dir)
	// A leaf hash changed in a level-0 tile.
	var tile []byte
	db.QueryRow(`SELECT data FROM tiles WHERE level = 0 AND n = 0`).Scan(&tile)
	tile[32*17] ^= 0xff
	db.Exec(`UPDATE tiles SET data = ? WHERE level = 0 AND n = 0`, tile)
	_, err := verify(t, env.Dir)
	var p *audit.Problem
	if !asProblem(err, &p) || p.Index != 17 {
		t.Fatalf("Verify with a bad tile = %v, want entry 17", err)
	}
	tile[32*17] ^= 0xff
	db.Exec(`UPDATE tiles SET data = ? WHERE level = 0 AND n = 0`, tile)
	// A checkpoint's size edited: the signature no longer verifies.
	var size int64
	var note []byte
	db.QueryRow(`SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &note)
	forged := bytes.Replace(note, []byte("\n"+itoa(size)+"\n"), []byte("\n"+itoa(size-1)+"\n"), 1)
	db.Exec(`UPDATE checkpoints SET note = ? WHERE size = ?`, forged, size)
	if _, err := verify(t, env.Dir); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("Verify with a forged checkpoint = %v", err)
	}
}

func TestReplayNamesTheEditedRecord(t *testing.T) {
	for _, c := range []struct {
		name, sql, want string
	}{
		{"content", `UPDATE records SET doc = replace(doc, '"killed":1', '"killed":9') WHERE id = 'AL-0002'`, "allegation/AL-0002 differs from the log in content"},
		{"status", `UPDATE records SET status = 'closed' WHERE id = 'AL-0005'`, "allegation/AL-0005 differs from the log in status"},
		{"visibility", `UPDATE records SET visibility = 'public' WHERE id = 'AL-0006'`, "allegation/AL-0006 differs from the log in visibility"},
		{"deleted", `DELETE FROM records WHERE id = 'AL-0004'`, "allegation/AL-0004 is in the log but missing"},
		{"invented", `INSERT INTO records (type, id, party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc)
			SELECT type, 'AL-0004x', party, against, category, status, member, parent, visibility, owner, t_from, t_to, lat, lon, created, updated, doc FROM records WHERE id = 'AL-0004'`, "AL-0004x is in the database but not in the log"},
		{"history", `DELETE FROM history WHERE id = 'AL-0003'`, "history row allegation/AL-0003"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newLog(t, 10)
			if _, err := rawDB(t, env.Dir).Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			_, err := audit.Replay(context.Background(), openStore(t, env.Dir))
			if err == nil || !audit.IsProblem(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Replay = %v, want %q", err, c.want)
			}
		})
	}
}

// Entries signed by a member are checked against that member's key.
func TestVerifyChecksSignaturesAgainstAuthorKeys(t *testing.T) {
	env := newLog(t, 20)
	st := openStore(t, env.Dir)
	size, _, _ := st.Tree(context.Background())
	var authors []string
	store.Leaves(context.Background(), st, 0, size, func(i int64, leaf []byte) error {
		_, e, _ := entry.DecodeLeaf(leaf, i)
		authors = append(authors, e.Payload.Author)
		return nil
	})
	if authors[0] != "system" || authors[len(authors)-1] == "system" {
		t.Fatalf("authors = %v", authors)
	}
}

// An operator who slips in an entry signed with a revoked key, rebuilding
// the tree and re-signing checkpoints with the log key, is caught: the
// entry's key was revoked at that point of the log.
func TestVerifyCatchesRevokedKeyEntries(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	pk := env.Signers["pk-liaison"]
	env.Submit(t, pk.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	env.Submit(t, pk.Sign(t, rules.KindKeyRevoked, rules.KeyRevocation{Member: "pk-liaison", Key: pk.Key.ID(), Reason: "Compromised."}))
	env.Submit(t, env.Signers["af-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("PK", 2)))
	// Refused live.
	if _, err := env.In.Seq.Submit(context.Background(), pk.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 3)), nil, nil); truce.ErrorCode(err) != truce.CodeRevokedKey {
		t.Fatalf("live submission with a revoked key: %v", err)
	}
	// The operator forges: a new log with the rogue entry appended.
	forged, n := forge(t, env, func(next int64) []byte {
		rogue, _ := entry.EncodeLeaf(next, testkit.Start.Add(time.Hour), pk.Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 4)))
		return rogue
	})
	if p := verifyProblem(t, forged); p == nil || p.Index != n || !strings.Contains(p.What, "revoked") {
		t.Fatalf("Verify = %v, want the rogue entry %d named as signed with a revoked key", p, n)
	}
}

// The operator cannot sign as a party: a key an administrator adds for a
// party's member, holding it, signs nothing until the party approves it —
// refused live, and named by truce verify in a log doctored to use it.
func TestAdminCannotSignForAParty(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	ctx := context.Background()
	forged, _ := entry.GenerateKey("af-liaison")
	admin := env.Signers["admin"]
	env.Submit(t, admin.Sign(t, rules.KindKeyAdded, rules.KeyAddition{Member: "af-liaison", Key: forged.PublicKey(),
		Proof: forged.ProvePossession(testkit.Origin, "af-liaison")}))
	reply := func() *dsse.Envelope {
		e, err := sequencer.Sign(rules.KindReplyFiled, testkit.Origin, "af-liaison", env.In.Seq.Snapshot().Seq("af-liaison")+1, env.Clock.Now(),
			truce.Reply{Allegation: "AL-0001", Response: truce.ReplyAdmit, Narrative: "Afghanistan admits the violation."}, forged)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	env.Submit(t, env.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	if _, err := env.In.Seq.Submit(ctx, reply(), nil, nil); truce.ErrorCode(err) != truce.CodeRevokedKey || !strings.Contains(err.Error(), "until AF approves it") {
		t.Fatalf("a reply signed with the admin's key for AF: %v", err)
	}
	// Nor can the admin approve it: only AF, which has a member with a key.
	if _, err := env.In.Seq.Submit(ctx, admin.Sign(t, rules.KindKeyApproved, rules.KeyApproval{Member: "af-liaison", Key: forged.ID()}), nil, nil); err == nil {
		t.Fatal("the admin approved its own key for AF")
	}
	// Nor by the long way round: mediators of its own making to enrol AF
	// again, after stripping AF's liaison of its key.
	fakeKey, _ := entry.GenerateKey("fake-tr")
	env.Submit(t, admin.Sign(t, rules.KindMemberRegistered, rules.MemberRegistration{ID: "fake-tr", Name: "Fake TR", Role: truce.RoleMediator,
		Party: "TR", Keys: []string{fakeKey.PublicKey()}}))
	fake := func(kind string, body any) error {
		e, _ := sequencer.Sign(kind, testkit.Origin, "fake-tr", env.In.Seq.Snapshot().Seq("fake-tr")+1, env.Clock.Now(), body, fakeKey)
		_, err := env.In.Seq.Submit(ctx, e, nil, nil)
		return err
	}
	if err := fake(rules.KindKeyApproved, rules.KeyApproval{Member: "af-liaison", Key: forged.ID()}); truce.ErrorCode(err) != truce.CodeRevokedKey {
		t.Fatalf("a mediator the admin registered after the founding signs at once: %v", err)
	}
	afKey := env.Signers["af-liaison"].Key.ID()
	if _, err := env.In.Seq.Submit(ctx, admin.Sign(t, rules.KindKeyRevoked, rules.KeyRevocation{Member: "af-liaison", Key: afKey, Reason: "x"}), nil, nil); truce.ErrorCode(err) != truce.CodeForbidden {
		t.Fatalf("the admin revoking AF's liaison's key: %v", err)
	}
	doctored, n := forge(t, env, func(next int64) []byte {
		leaf, _ := entry.EncodeLeaf(next, testkit.Start.Add(time.Hour), reply())
		return leaf
	})
	if p := verifyProblem(t, doctored); p == nil || p.Index != n || !strings.Contains(p.What, "approves") {
		t.Fatalf("Verify = %v, want the forged reply %d named", p, n)
	}
}

// forge closes env's instance and builds, as an operator gone rogue would,
// a new log of its entries and one more that next makes for its index,
// with the tree rebuilt and the checkpoint signed with the log's own key.
// It returns the forged store and the index of the added entry.
func forge(t *testing.T, env *testkit.Env, next func(index int64) []byte) (*sqlite.DB, int64) {
	t.Helper()
	ctx := context.Background()
	size, _, _ := env.In.Store.Tree(ctx)
	var leaves [][]byte
	store.Leaves(ctx, env.In.Store, 0, size, func(_ int64, l []byte) error { leaves = append(leaves, bytes.Clone(l)); return nil })
	added := next(int64(len(leaves)))
	env.In.Close()
	env.In = nil
	leaves = append(leaves, added)
	forged, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), instance.DBFile), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { forged.Close() })
	orig := openStore(t, env.Dir)
	for _, k := range []string{instance.MetaOrigin, instance.MetaVKey} {
		v, _ := orig.Meta(ctx, k)
		forged.SetMeta(ctx, k, v)
	}
	skey, _ := os.ReadFile(filepath.Join(env.Dir, instance.LogKeyFile))
	signer, _ := note.NewSigner(strings.TrimSpace(string(skey)))
	empty, _ := tlog.RootAt(ctx, nil, 0)
	tree, _ := tlog.OpenTree(ctx, forged, 0, empty)
	g, _ := tree.Grow(ctx, leaves)
	cp, _ := tlog.SignCheckpoint(tlog.Checkpoint{Origin: testkit.Origin, Size: g.Size, Root: g.Root}, signer)
	if err := forged.Append(ctx, &store.Batch{Start: 0, Size: g.Size, Root: g.Root, Checkpoint: cp, Tiles: g.Tiles, Bundles: g.Bundles, BundleFrom: g.BundleFrom}); err != nil {
		t.Fatal(err)
	}
	return forged, int64(len(leaves) - 1)
}

// verifyProblem runs truce verify's check on a store and returns the
// problem it names, nil if it passes.
func verifyProblem(t *testing.T, st *sqlite.DB) *audit.Problem {
	t.Helper()
	ctx := context.Background()
	v, _ := noteVerifier(func() string { s, _ := st.Meta(ctx, instance.MetaVKey); return s }())
	_, err := audit.Verify(ctx, st, testkit.Origin, v, nil)
	var p *audit.Problem
	if err != nil && !asProblem(err, &p) {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

// The content kept behind sealed commitments is checked against them.
func TestVerifyChecksSealedContent(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	salt := bytes.Repeat([]byte{7}, 32)
	content := []byte(`{"source":"a protected source"}`)
	a := testkit.Allegation("AF", 1)
	a.Sealed = &truce.Sealed{Commitment: truce.Commit(salt, content)}
	if _, err := env.In.Seq.Submit(context.Background(), env.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a),
		nil, &truce.Opening{Salt: hex.EncodeToString(salt), Content: content}); err != nil {
		t.Fatal(err)
	}
	env.In.Close()
	env.In = nil
	if _, err := verify(t, env.Dir); err != nil {
		t.Fatal(err)
	}
	rawDB(t, env.Dir).Exec(`UPDATE sealed SET content = ?`, []byte(`{"source":"someone else"}`))
	if _, err := verify(t, env.Dir); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("Verify with altered sealed content = %v", err)
	}
	rawDB(t, env.Dir).Exec(`DELETE FROM sealed`)
	if _, err := verify(t, env.Dir); err == nil || !strings.Contains(err.Error(), "not kept") {
		t.Fatalf("Verify with sealed content lost = %v", err)
	}
}
