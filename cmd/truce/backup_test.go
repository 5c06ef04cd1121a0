package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit/c2sp"
	"github.com/truce-mvm/truce/internal/tlog"
)

// TestBackupRestore backs up a serving SQLite instance under write load,
// with a passphrase, and restores it elsewhere; see backupScenario.
func TestBackupRestore(t *testing.T) { backupScenario(t, "", "") }

// TestBackupRestorePostgres is the same on PostgreSQL, the backup
// encrypted to an age key, the database address carrying a password.
func TestBackupRestorePostgres(t *testing.T) {
	db := withPassword(t, pgDatabase(t), "Pg-Secret-5b1d0c")
	backupScenario(t, db, "Pg-Secret-5b1d0c")
}

// withPassword puts a password in a database address (the test cluster
// trusts local connections, so any password is taken).
func withPassword(t *testing.T, db, password string) string {
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// backupScenario runs an instance (on PostgreSQL if db is set), files
// evidence, a sealed allegation and allegations under load, has a party's
// auditor follow it, and while it serves under load backs it up. The
// backup holds no key and no database password in clear; a changed byte,
// a wrong passphrase and a restore onto an existing instance are refused
// and write nothing. Restored elsewhere, the instance passes verify and
// replay, serves, the independent verifier accepts it as the same log up
// to the backup, the party's auditor that followed the old instance
// accepts it and goes on with it, while an auditor that had followed the
// old instance past the backup calls it a rollback. export-log of the old
// instance is accepted by the independent verifier from a static file
// server, and holds nothing sealed.
func backupScenario(t *testing.T, db, dbPassword string) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "instance")
	const origin = "truce.example.org/backup"
	var dbArgs []string
	if db != "" {
		dbArgs = []string{"--db", db}
	}
	keyFile := filepath.Join(dir, "monitor.key")
	monPub, errOut, code := run(t, "key", "generate", "--out", keyFile, "--member", "monitor")
	if code != 0 {
		t.Fatalf("key generate = %d %s", code, errOut)
	}
	pkPub, errOut, code := run(t, "key", "generate", "--out", filepath.Join(dir, "pk.key"), "--member", "pk-liaison")
	if code != 0 {
		t.Fatalf("key generate = %d %s", code, errOut)
	}
	members := filepath.Join(dir, "members.yaml")
	os.WriteFile(members, fmt.Appendf(nil, "- id: monitor\n  name: Field Monitor\n  role: monitor\n  party: MECH\n  keys: [%q]\n- id: pk-liaison\n  name: PK Liaison\n  role: liaison\n  party: PK\n  keys: [%q]\n",
		strings.TrimSpace(monPub), strings.TrimSpace(pkPub)), 0o600)
	if out, errOut, code := run(t, append([]string{"init", "--data", data, "--origin", origin, "--agreement", "../../internal/demo/agreement.yaml", "--members", members}, dbArgs...)...); code != 0 {
		t.Fatalf("init = %d %s %s", code, out, errOut)
	}
	// One member files as fast as it can: no rate limit.
	s := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--member-rate", "0", "--address-rate", "0")
	token := func(member string) string {
		tok, errOut, code := run(t, "token", "issue", "--data", data, "--member", member)
		if code != 0 {
			t.Fatalf("token issue = %d %s", code, errOut)
		}
		return strings.TrimSpace(tok)
	}
	monTok, pkTok := token("monitor"), token("pk-liaison")
	c := client.New(s.url, monTok)
	c.HTTP.Timeout = 10 * time.Second
	photo := bytes.Repeat([]byte("JPEG crater photograph "), 400)
	if err := c.Upload(ctx, "crater.jpg", "image/jpeg", photo); err != nil {
		t.Fatalf("uploading evidence: %v", err)
	}
	allege := func(server, tok string, extra ...string) {
		t.Helper()
		args := append([]string{"allege", "--key", keyFile, "--server", server, "--token", tok, "--category", "armed_clash", "--at", "-3h",
			"--country", "AF", "--lat", "33", "--lon", "70", "--perpetrator", "party:AF", "--clause", "no-cross-border-fire"}, extra...)
		if out, errOut, code := run(t, args...); code != 0 {
			t.Fatalf("allege = %d %s %s", code, out, errOut)
		}
	}
	allege(s.url, monTok, "--visibility", "mechanism", "--narrative", "SEALED-7f3a the patrol's route")
	allege(s.url, monTok, "--narrative", "CLEAR-91bc mortar fire on the ridge")

	k, err := entry.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	type acked struct {
		index   int64
		payload string
	}
	var mu sync.Mutex
	var acks []acked
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	seq, err := c.Seq(ctx, "monitor")
	if err != nil {
		t.Fatal(err)
	}
	submit := func(c *client.Client, seq uint64, n int) (*truce.Ack, string, error) {
		body := filingAgainst("AF", fmt.Sprintf("[EXERCISE] mortar fire, report %d", n))
		env, err := sequencer.Sign(rules.KindAllegationFiled, origin, "monitor", seq, time.Now(), body, k)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := c.Submit(ctx, env)
		return ack, env.Payload, err
	}
	load := func(from, to int) bool {
		for n := from; n < to; n++ {
			seq++
			ack, payload, err := submit(c, seq, n)
			if err != nil {
				t.Errorf("allegation %d: %v", n, err)
				return false
			}
			mu.Lock()
			acks = append(acks, acked{ack.Index, payload})
			mu.Unlock()
		}
		return true
	}
	load(0, 20)

	// A party's auditor follows the log, keeping its state.
	state := filepath.Join(dir, "audit-pk")
	audit := func(server, state string) (string, string, int) {
		return run(t, "audit", "--log", server, "--token", pkTok, "--state", state)
	}
	if out, errOut, code := audit(s.url, state); code != 0 || !strings.Contains(out, "ok: ") {
		t.Fatalf("audit of the instance = %d %s %s", code, out, errOut)
	}

	// The backup, taken while entries keep coming.
	stop := make(chan struct{})
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		for n := 20; n < 5000; n += 10 {
			select {
			case <-stop:
				return
			default:
			}
			if !load(n, n+10) {
				return
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); count() < 60 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
	archive := filepath.Join(dir, "instance.backup")
	passFile := filepath.Join(dir, "passphrase")
	os.WriteFile(passFile, []byte("correct horse battery staple\n"), 0o600)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(dir, "backup.agekey")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	encrypt, decrypt := []string{"--passphrase-file", passFile}, []string{"--passphrase-file", passFile}
	if db != "" {
		encrypt, decrypt = []string{"--recipient", id.Recipient().String()}, []string{"--identity", idFile}
	}
	before := count()
	began := time.Now()
	out, errOut, code := run(t, append(append([]string{"backup", "--data", data, "--out", archive}, dbArgs...), encrypt...)...)
	took := time.Since(began)
	if code != 0 {
		t.Fatalf("backup = %d %s %s", code, out, errOut)
	}
	during := count() - before
	m := readBackupManifest(t, archive)
	// Let the instance go on past the backup, then stop the load.
	for deadline := time.Now().Add(30 * time.Second); logSize(t, s.url) < m.TreeSize+20 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
	}
	close(stop)
	<-loaded
	t.Logf("backup of %d entries (%s store, %d parts, %d bytes) in %v while %d entries were acknowledged", m.TreeSize, m.Store, m.Parts, fileSize(t, archive), took, during)
	if during == 0 {
		t.Fatal("no entry was acknowledged while the backup ran: it did not run under load")
	}
	if fi, _ := os.Stat(archive); fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup is mode %v", fi.Mode().Perm())
	}

	// No key and no database password in clear.
	raw, _ := os.ReadFile(archive)
	for _, name := range []string{"keys/log.key", "keys/system.key", "keys/custody.key"} {
		key, _ := os.ReadFile(filepath.Join(data, name))
		for _, l := range bytes.Split(key, []byte("\n")) {
			l = bytes.TrimSpace(l)
			if bytes.HasPrefix(l, []byte("PRIVATE+KEY+")) {
				l = l[len(l)-40:] // the key, without its public name
			}
			if len(l) >= 24 && bytes.Contains(raw, l) {
				t.Fatalf("the backup holds %s in clear", name)
			}
		}
	}
	if bytes.Contains(raw, photo[:200]) {
		t.Fatal("the backup holds the evidence file in clear")
	}
	if bytes.Contains(raw, []byte(sha256hex(photo))) {
		t.Fatal("the backup names the evidence file's hash in clear")
	}
	if dbPassword != "" && (bytes.Contains(raw, []byte(dbPassword)) || bytes.Contains(raw, []byte(url.QueryEscape(dbPassword)))) {
		t.Fatal("the backup holds the database password")
	}

	// Refusals, each writing nothing.
	newDB := ""
	var newDBArgs []string
	if db != "" {
		newDB = pgDatabase(t)
		newDBArgs = []string{"--db", newDB}
	}
	restored := filepath.Join(dir, "restored")
	nothingWritten := func(what string) {
		t.Helper()
		if _, err := os.Stat(restored); err == nil {
			t.Fatalf("%s left %s behind", what, restored)
		}
		if newDB != "" {
			if n := pgTables(t, newDB); n != 0 {
				t.Fatalf("%s left %d tables in the database", what, n)
			}
		}
	}
	tamper := func(at int) string {
		b := bytes.Clone(raw)
		b[at] ^= 1
		p := filepath.Join(dir, fmt.Sprintf("tampered-%d.backup", at))
		os.WriteFile(p, b, 0o600)
		return p
	}
	for _, at := range []int{len("truce-backup 1\n") + 40, len(raw) / 2, len(raw) - 20} {
		if out, errOut, code := run(t, append(append([]string{"restore", "--in", tamper(at), "--data", restored}, newDBArgs...), decrypt...)...); code == 0 || !strings.Contains(errOut, "damaged or was altered") {
			t.Fatalf("restore of a backup changed at byte %d = %d %s %s", at, code, out, errOut)
		}
		nothingWritten("a restore of a changed backup")
	}
	wrong := filepath.Join(dir, "wrong")
	if db == "" {
		os.WriteFile(wrong, []byte("incorrect horse\n"), 0o600)
		decryptWrong := []string{"--passphrase-file", wrong}
		if _, errOut, code := run(t, append([]string{"restore", "--in", archive, "--data", restored}, decryptWrong...)...); code == 0 || !strings.Contains(errOut, "does not open this backup") {
			t.Fatalf("restore with a wrong passphrase = %d %s", code, errOut)
		}
	} else {
		other, _ := age.GenerateX25519Identity()
		os.WriteFile(wrong, []byte(other.String()+"\n"), 0o600)
		if _, errOut, code := run(t, append([]string{"restore", "--in", archive, "--data", restored, "--identity", wrong}, newDBArgs...)...); code == 0 || !strings.Contains(errOut, "does not open this backup") {
			t.Fatalf("restore with a wrong identity = %d %s", code, errOut)
		}
	}
	nothingWritten("a restore with the wrong key")
	if _, errOut, code := run(t, append(append([]string{"restore", "--in", archive, "--data", data}, dbArgs...), decrypt...)...); code == 0 || !strings.Contains(errOut, "already holds an instance") {
		t.Fatalf("restore onto the serving instance = %d %s", code, errOut)
	}
	if db != "" {
		if _, errOut, code := run(t, append([]string{"restore", "--in", archive, "--data", restored, "--db", db}, decrypt...)...); code == 0 || !strings.Contains(errOut, "already holds the instance "+origin) {
			t.Fatalf("restore into the instance's database = %d %s", code, errOut)
		}
		nothingWritten("a restore into a database holding an instance")
		if _, errOut, code := run(t, append([]string{"restore", "--in", archive, "--data", restored}, decrypt...)...); code == 0 || !strings.Contains(errOut, "not moved between kinds of store") {
			t.Fatalf("restore of a PostgreSQL backup into SQLite = %d %s", code, errOut)
		}
		nothingWritten("a restore into another kind of store")
	}
	if out, errOut, code := run(t, append([]string{"restore", "--in", archive, "--check"}, decrypt...)...); code != 0 || !strings.Contains(out, "ok: backup of "+origin) {
		t.Fatalf("restore --check = %d %s %s", code, out, errOut)
	}
	nothingWritten("restore --check")

	// The restore.
	if out, errOut, code := run(t, append(append([]string{"restore", "--in", archive, "--data", restored}, newDBArgs...), decrypt...)...); code != 0 {
		t.Fatalf("restore = %d %s %s", code, out, errOut)
	}
	for _, cmd := range []string{"verify", "replay"} {
		if out, errOut, code := run(t, cmd, "--data", restored); code != 0 || !strings.HasPrefix(out, "ok: ") {
			t.Fatalf("%s on the restored instance = %d %s %s", cmd, code, out, errOut)
		}
	}
	if db != "" {
		if b, _ := os.ReadFile(filepath.Join(restored, "database")); strings.TrimSpace(string(b)) != newDB {
			t.Fatalf("the restored directory names the database %q", b)
		}
	}
	s2 := start(t, "serve", "--data", restored, "--addr", "127.0.0.1:0", "--member-rate", "0", "--address-rate", "0")
	vkey := strings.TrimSpace(string(get(t, s.url+"/log/vkey")))
	if got := strings.TrimSpace(string(get(t, s2.url+"/log/vkey"))); got != vkey {
		t.Fatalf("the restored log's key %s is not the instance's %s", got, vkey)
	}
	old, err := c2sp.Verify(ctx, s.url+"/log", origin, vkey, pkTok)
	if err != nil {
		t.Fatalf("the independent verifier on the instance: %v", err)
	}
	res, err := c2sp.Verify(ctx, s2.url+"/log", origin, vkey, pkTok)
	if err != nil {
		t.Fatalf("the independent verifier on the restored instance: %v", err)
	}
	if int64(res.Size) != m.TreeSize || res.Size > old.Size {
		t.Fatalf("the restored log has %d entries; the backup %d, the instance %d", res.Size, m.TreeSize, old.Size)
	}
	for i, leaf := range res.Leaves {
		if !bytes.Equal(leaf, old.Leaves[i]) {
			t.Fatalf("entry %d of the restored log is not the instance's", i)
		}
	}
	checkConsistentAt(t, client.New(s.url, pkTok), res, old)
	kept := 0
	for _, a := range acks {
		if a.index < int64(res.Size) {
			if _, e, err := entry.DecodeLeaf(res.Leaves[a.index], a.index); err != nil || e.Envelope.Payload != a.payload {
				t.Fatalf("acknowledged entry %d is not in the restored log", a.index)
			}
			kept++
		}
	}
	t.Logf("restored: %d entries, %d of %d acknowledged entries (those before the snapshot); the instance went on to %d", res.Size, kept, len(acks), old.Size)
	// The evidence file, read back with the restored token.
	var got []byte
	if err := client.New(s2.url, monTok).Do(ctx, "GET", "/api/v1/blobs/"+sha256hex(photo), nil, &got); err != nil || !bytes.Equal(got, photo) {
		t.Fatalf("the evidence file from the restored instance: %d bytes, %v", len(got), err)
	}

	// The auditor that followed the instance up to before the backup
	// accepts the restored one, and goes on with it.
	if out, errOut, code := audit(s2.url, state); code != 0 || !strings.Contains(out, "ok: ") {
		t.Fatalf("the party's auditor on the restored instance = %d %s %s", code, out, errOut)
	}
	c2 := client.New(s2.url, monTok)
	seq2, err := c2.Seq(ctx, "monitor")
	if err != nil {
		t.Fatal(err)
	}
	if ack, _, err := submit(c2, seq2+1, 9999); err != nil || ack.Index != int64(res.Size) {
		t.Fatalf("filing on the restored instance: %+v %v", ack, err)
	}
	for deadline := time.Now().Add(10 * time.Second); logSize(t, s2.url) <= int64(res.Size) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
	}
	if out, errOut, code := audit(s2.url, state); code != 0 || !regexp.MustCompile(`ok: \d+ entries \([1-9]\d* new\)`).MatchString(out) {
		t.Fatalf("the party's auditor after the restored instance grew = %d %s %s", code, out, errOut)
	}
	// An auditor that followed the instance past the backup sees the
	// restored one as a rollback.
	late := filepath.Join(dir, "audit-late")
	if out, errOut, code := audit(s.url, late); code != 0 {
		t.Fatalf("audit of the instance = %d %s %s", code, out, errOut)
	}
	if out, errOut, code := audit(s2.url, late); code == 0 || !strings.Contains(out+errOut, "rolled back or forked") {
		t.Fatalf("an auditor past the backup on the restored instance = %d %s %s", code, out, errOut)
	}

	// The log of the instance, as static files.
	mirrorDir := filepath.Join(dir, "mirror")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cp, _ := tlog.OpenCheckpoint(get(t, s.url+"/log/checkpoint"), origin, mustVerifier(t, vkey))
		if cp.Size == logSize(t, s.url) || time.Now().After(deadline) {
			break
		}
	}
	if out, errOut, code := run(t, append([]string{"export-log", "--data", data, "--out", mirrorDir}, dbArgs...)...); code != 0 {
		t.Fatalf("export-log = %d %s %s", code, out, errOut)
	}
	fsrv := httptest.NewServer(staticLog(mirrorDir))
	defer fsrv.Close()
	mres, err := c2sp.VerifyStatic(ctx, fsrv.URL, origin, vkey)
	if err != nil {
		t.Fatalf("the independent verifier on the exported log: %v", err)
	}
	served := get(t, s.url+"/log/checkpoint")
	if !bytes.Equal(mres.Checkpoint, served) {
		t.Fatalf("the exported checkpoint is not the one the instance serves:\n%s\n%s", mres.Checkpoint, served)
	}
	cp, _ := tlog.OpenCheckpoint(served, origin, mustVerifier(t, vkey))
	if int64(mres.Size) != cp.Size || !bytes.Equal(mres.Root, cp.Root[:]) {
		t.Fatalf("the export is of %d entries, the instance's checkpoint of %d", mres.Size, cp.Size)
	}
	var text strings.Builder
	for _, leaf := range mres.Leaves {
		var l struct{ Envelope struct{ Payload string } }
		json.Unmarshal(leaf, &l)
		p, _ := base64.StdEncoding.DecodeString(l.Envelope.Payload)
		text.Write(leaf)
		text.Write(p)
	}
	if strings.Contains(text.String(), "SEALED-7f3a") || !strings.Contains(text.String(), "CLEAR-91bc") {
		t.Fatal("the exported log holds the sealed narrative, or not the clear one")
	}
}

// staticLog serves an exported log as a static web server configured for
// tlog-tiles would.
func staticLog(dir string) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/tile/") {
			w.Header().Set("Content-Type", "application/octet-stream")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		fs.ServeHTTP(w, r)
	})
}

// backupManifest is what the tests read of a backup's header, in clear.
type backupManifest struct {
	Store    string `json:"store"`
	TreeSize int64  `json:"tree_size"`
	Parts    int    `json:"parts"`
}

func readBackupManifest(t *testing.T, path string) backupManifest {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitN(raw, []byte("\n"), 3)
	var m backupManifest
	if len(lines) < 3 || string(lines[0]) != "truce-backup 2" || json.Unmarshal(lines[1], &m) != nil {
		t.Fatalf("the backup does not start with its format line and header")
	}
	return m
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// pgTables counts the tables in the schema a database address names.
func pgTables(t *testing.T, db string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkConsistentAt checks, with the instance's consistency proof, that
// the tree of old is a prefix of the tree of cur.
func checkConsistentAt(t *testing.T, c *client.Client, old, cur *c2sp.Result) {
	t.Helper()
	if old.Size == cur.Size {
		if !bytes.Equal(old.Root, cur.Root) {
			t.Fatal("two trees of one size with different roots")
		}
		return
	}
	var p struct{ Hashes [][]byte }
	if err := c.Do(context.Background(), "GET", fmt.Sprintf("/log/proof/consistency?old=%d&size=%d", old.Size, cur.Size), nil, &p); err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cur.Size, p.Hashes, old.Root, cur.Root); err != nil {
		t.Fatalf("the restored log is not a prefix of the instance's: %v", err)
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBackupKey makes the age identity a backup is encrypted to: the file
// is its owner's alone and holds the secret, the public key printed is
// its recipient, and an existing file is never overwritten.
func TestBackupKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "backup.agekey")
	out, errOut, code := run(t, "backup", "key", "--out", file)
	if code != 0 || !strings.HasPrefix(out, "age1") {
		t.Fatalf("backup key = %d %s %s", code, out, errOut)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the identity file: %v %v", fi, err)
	}
	ids, err := age.ParseIdentities(mustOpen(t, file))
	if err != nil || len(ids) != 1 || ids[0].(*age.X25519Identity).Recipient().String() != strings.TrimSpace(out) {
		t.Fatalf("the identity file does not hold the key whose recipient was printed: %v", err)
	}
	before, _ := os.ReadFile(file)
	if _, _, code := run(t, "backup", "key", "--out", file); code == 0 {
		t.Fatal("backup key overwrote an identity")
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Fatal("the identity changed")
	}
}

func mustOpen(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
