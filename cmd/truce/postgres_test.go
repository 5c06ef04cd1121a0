package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit/c2sp"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// pgDatabase is a database of the test's own on TRUCE_TEST_POSTGRES.
func pgDatabase(t *testing.T) string { return pgtest.URL(t) }

// TestPostgres runs an instance on PostgreSQL from the command line:
// init --db keeps the log in the database and the keys in the directory,
// which names its database for the commands after; serve takes signed
// entries and an independent verifier accepts its log; a SIGKILL under
// load loses no acknowledged entry; verify, replay and migrate pass with
// --db; and a second instance is refused the same database.
func TestPostgres(t *testing.T) {
	db := pgDatabase(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "instance")
	keyFile := filepath.Join(dir, "monitor.key")
	pub, errOut, code := run(t, "key", "generate", "--out", keyFile, "--member", "monitor")
	if code != 0 {
		t.Fatalf("key generate = %d %s", code, errOut)
	}
	members := filepath.Join(dir, "members.yaml")
	os.WriteFile(members, fmt.Appendf(nil, "- id: monitor\n  name: Field Monitor\n  role: monitor\n  party: MECH\n  keys: [%q]\n", strings.TrimSpace(pub)), 0o600)
	const origin = "truce.example.org/pg"
	if out, errOut, code := run(t, "init", "--data", data, "--db", db, "--origin", origin, "--agreement", "../../internal/demo/agreement.yaml", "--members", members); code != 0 {
		t.Fatalf("init --db = %d %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(data, "truce.db")); err == nil {
		t.Fatal("init --db made a SQLite database too")
	}
	if fi, err := os.Stat(filepath.Join(data, "database")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the data directory does not name its database, readable only by its owner: %v %v", fi, err)
	}
	for _, k := range []string{"keys/log.key", "keys/system.key", "keys/custody.key"} {
		if _, err := os.Stat(filepath.Join(data, k)); err != nil {
			t.Fatalf("the key %s is not in the data directory: %v", k, err)
		}
	}
	// Another instance may not take a database that holds one.
	if _, errOut, code := run(t, "init", "--data", filepath.Join(dir, "other"), "--db", db, "--origin", "truce.example.org/other",
		"--agreement", "../../internal/demo/agreement.yaml"); code == 0 || !strings.Contains(errOut, "already holds") {
		t.Fatalf("init on a database holding an instance = %d %s", code, errOut)
	}

	s := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	tok, errOut, code := run(t, "token", "issue", "--data", data, "--member", "monitor")
	if code != 0 {
		t.Fatalf("token issue = %d %s", code, errOut)
	}
	k, err := entry.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(s.url, strings.TrimSpace(tok))
	c.HTTP.Timeout = 5 * time.Second
	seq, err := c.Seq(context.Background(), "monitor")
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
	submit := func(n int) error {
		seq++
		body := truce.AllegationFiling{Category: "armed_clash", Occurred: truce.Occurred{From: time.Now().Add(-time.Hour).UTC(), Precision: 1},
			Place:       truce.Place{Lat: 33, Lon: 70, GeoPrecision: 2, Country: "AF"},
			Clauses:     []string{"no-cross-border-fire"},
			Perpetrator: truce.Perpetrator{Kind: truce.PerpParty, Party: "AF"},
			Narrative:   fmt.Sprintf("[EXERCISE] mortar fire on the ridge, report %d", n)}
		env, err := sequencer.Sign(rules.KindAllegationFiled, origin, "monitor", seq, time.Now(), body, k)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := c.Submit(context.Background(), env)
		if err != nil {
			return err
		}
		mu.Lock()
		acks = append(acks, acked{ack.Index, env.Payload})
		mu.Unlock()
		return nil
	}
	for n := range 20 {
		if err := submit(n); err != nil {
			t.Fatalf("allegation %d: %v", n, err)
		}
	}
	// What was filed is listed and found by its words.
	var list struct {
		Items []truce.Record `json:"items"`
	}
	if err := c.Do(context.Background(), "GET", "/api/v1/allegations?limit=100", nil, &list); err != nil || len(list.Items) != 20 {
		t.Fatalf("the allegations listed: %d, %v", len(list.Items), err)
	}
	var found struct {
		Items []truce.SearchHit `json:"items"`
	}
	if err := c.Do(context.Background(), "GET", "/api/v1/search?q=mortar+rid", nil, &found); err != nil || len(found.Items) == 0 {
		t.Fatalf("search found %d, %v", len(found.Items), err)
	}
	// Killed while taking entries, it loses none it acknowledged.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 20; n < 400; n++ {
			if submit(n) != nil {
				return
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); count() < 60 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
	s.stop(syscall.SIGKILL)
	<-done
	for _, cmd := range [][]string{{"verify"}, {"replay"}, {"migrate"}} {
		if out, errOut, code := run(t, append(cmd, "--data", data, "--db", db)...); code != 0 {
			t.Fatalf("%s --db after SIGKILL = %d %s %s", cmd[0], code, out, errOut)
		}
	}
	s2 := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--db", db)
	// The killed process's lease lasts its term: the restarted one stands
	// by until it lapses, then leads and signs the checkpoint its last
	// batch was waiting for.
	var last int64
	for _, a := range acks {
		last = max(last, a.index)
	}
	restarted := time.Now()
	for deadline := restarted.Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		lines := strings.SplitN(string(get(t, s2.url+"/log/checkpoint")), "\n", 3)
		if len(lines) > 1 && lines[1] > "" {
			var size int64
			fmt.Sscan(lines[1], &size)
			if size > last {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted log's checkpoint never covered acknowledged entry %d", last)
		}
	}
	t.Logf("the restarted server's checkpoint covered every acknowledged entry %v after it started", time.Since(restarted).Round(time.Millisecond))
	vkey := strings.TrimSpace(string(get(t, s2.url+"/log/vkey")))
	res, err := c2sp.Verify(context.Background(), s2.url+"/log", origin, vkey, "")
	if err != nil {
		t.Fatalf("the independent verifier: %v", err)
	}
	for _, a := range acks {
		if a.index >= int64(res.Size) {
			t.Fatalf("acknowledged entry %d is beyond the restarted log's checkpoint (%d)", a.index, res.Size)
		}
		_, e, err := entry.DecodeLeaf(res.Leaves[a.index], a.index)
		if err != nil || e.Envelope.Payload != a.payload {
			t.Fatalf("acknowledged entry %d is not what was acknowledged", a.index)
		}
	}
	t.Logf("%d acknowledged entries all present after SIGKILL; log size %d", len(acks), res.Size)
}
