package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit/c2sp"
	"github.com/truce-mvm/truce/internal/tlog"
)

// TestStandbyTakesOver runs two truce serve processes over one PostgreSQL
// database, with a witness. Four monitors file allegations, each to the
// leader and, when it fails them, to the other process. The leader is
// killed under that load: the standby takes over within seconds, every
// acknowledged entry is in the log at its index, truce verify passes, the
// independent verifier accepts the log and a consistency proof from the
// old leader's last checkpoint, the witness cosigns the new leader's
// checkpoints — and refuses a fork.
func TestStandbyTakesOver(t *testing.T) {
	db := pgDatabase(t)
	dir := t.TempDir()
	data, wdir := filepath.Join(dir, "instance"), filepath.Join(dir, "witness")
	const monitors = 4
	var members bytes.Buffer
	keys := make([]*entry.PrivateKey, monitors)
	for i := range keys {
		k, err := entry.GenerateKey(fmt.Sprintf("monitor-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		fmt.Fprintf(&members, "- id: monitor-%d\n  name: Monitor %d\n  role: monitor\n  party: MECH\n  keys: [%q]\n", i, i, k.PublicKey())
	}
	membersFile := filepath.Join(dir, "members.yaml")
	os.WriteFile(membersFile, members.Bytes(), 0o600)
	const origin = "truce.example.org/standby"
	if out, errOut, code := run(t, "init", "--data", data, "--db", db, "--origin", origin, "--agreement", "../../internal/demo/agreement.yaml", "--members", membersFile); code != 0 {
		t.Fatalf("init --db = %d %s %s", code, out, errOut)
	}
	skey, err := os.ReadFile(filepath.Join(data, "keys", "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	logSigner, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}

	// A witness, as a party would run one.
	a := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	vkey := strings.TrimSpace(string(get(t, a.url+"/log/vkey")))
	out, errOut, code := run(t, "witness", "init", "--data", wdir, "--name", "witness.pk.example", "--log-key", vkey)
	wkey := strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("witness init = %d %s", code, errOut)
	}
	w := start(t, "witness", "serve", "--data", wdir, "--addr", "127.0.0.1:0")
	if out, errOut, code := run(t, "witness", "attach", "--data", data, "--url", w.url, "--vkey", wkey); code != 0 {
		t.Fatalf("witness attach = %d %s %s", code, out, errOut)
	}
	// The witness policy is read when serving starts: restart the leader
	// with it, then start the standby.
	a.stop(syscall.SIGTERM)
	a = start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	b := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	if ra, rb := readyRole(t, a.url), readyRole(t, b.url); ra != "leader" || rb != "standby" {
		t.Fatalf("/readyz says the first process is %q and the second %q", ra, rb)
	}
	wv, _ := fnote.NewVerifierForCosignatureV1(wkey)
	logV, _ := note.NewVerifier(vkey)

	tokens := make([]string, monitors)
	for i := range tokens {
		tok, errOut, code := run(t, "token", "issue", "--data", data, "--member", fmt.Sprintf("monitor-%d", i))
		if code != 0 {
			t.Fatalf("token issue = %d %s", code, errOut)
		}
		tokens[i] = strings.TrimSpace(tok)
	}

	type acked struct {
		index   int64
		payload string
		by      string
	}
	var (
		mu     sync.Mutex
		acks   []acked
		killed time.Time
		first  time.Time // the first acknowledgement by b after the kill
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range monitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("monitor-%d", i)
			urls := []string{a.url, b.url}
			at := 0
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				c := client.New(urls[at], tokens[i])
				c.HTTP.Timeout = 3 * time.Second
				ctx := context.Background()
				seq, err := c.Seq(ctx, id)
				if err == nil {
					body := filingAgainst("AF", fmt.Sprintf("[EXERCISE] mortar fire, report %d by %s", n, id))
					var env *dsse.Envelope
					env, err = sequencer.Sign(rules.KindAllegationFiled, origin, id, seq+1, time.Now(), body, keys[i])
					if err == nil {
						var ack *truce.Ack
						if ack, err = c.Submit(ctx, env); err == nil {
							mu.Lock()
							acks = append(acks, acked{ack.Index, env.Payload, urls[at]})
							if !killed.IsZero() && first.IsZero() && urls[at] == b.url {
								first = time.Now()
							}
							mu.Unlock()
							continue
						}
					}
				}
				// Refused, unreachable, or not known whether logged: ask the
				// other process next (its seq tells whether it was).
				at = 1 - at
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	wait := func(n int, what string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); count() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: only %d entries acknowledged", what, count())
			}
		}
	}
	wait(80, "before the kill")
	mu.Lock()
	for _, x := range acks {
		if x.by != a.url {
			mu.Unlock()
			t.Fatalf("the standby acknowledged an entry while the leader lived")
		}
	}
	mu.Unlock()
	before := get(t, a.url+"/log/checkpoint") // the old leader's, as an auditor kept it
	mu.Lock()
	killed = time.Now()
	mu.Unlock()
	a.stop(syscall.SIGKILL)
	n := count()
	wait(n+80, "after the kill")
	close(stop)
	wg.Wait()
	mu.Lock()
	handover := first.Sub(killed)
	mu.Unlock()
	t.Logf("%d entries acknowledged; the standby acknowledged its first %v after the leader was killed", count(), handover)
	if handover <= 0 || handover > 10*time.Second {
		t.Fatalf("the hand-over took %v", handover)
	}
	if r := readyRole(t, b.url); r != "leader" {
		t.Fatalf("/readyz says the process that took over is %q", r)
	}

	var last uint64 // the newest acknowledged index
	for _, x := range acks {
		last = max(last, uint64(x.index))
	}
	// The witness cosigns the new leader's checkpoints: it checked that
	// they extend what it cosigned before.
	var cosigned *note.Note
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		cosigned, err = note.Open(get(t, b.url+"/log/checkpoint"), note.VerifierList(logV, wv))
		if err == nil && len(cosigned.Sigs) == 2 && checkpointSize(t, cosigned.Text) > last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new leader's checkpoints are not cosigned: %v", err)
		}
	}
	// Every acknowledged entry is in the log at its index.
	res, err := c2sp.Verify(context.Background(), b.url+"/log", origin, vkey, "")
	if err != nil {
		t.Fatalf("the independent verifier: %v", err)
	}
	for _, x := range acks {
		if x.index >= int64(res.Size) {
			t.Fatalf("acknowledged entry %d is beyond the new leader's checkpoint (%d)", x.index, res.Size)
		}
		_, e, err := entry.DecodeLeaf(res.Leaves[x.index], x.index)
		if err != nil || e.Envelope.Payload != x.payload {
			t.Fatalf("acknowledged entry %d is not what was acknowledged", x.index)
		}
	}
	if _, err := c2sp.Consistent(context.Background(), b.url+"/log", origin, vkey, "", before); err != nil {
		t.Fatalf("the log after the hand-over does not extend the old leader's checkpoint: %v", err)
	}
	if out, errOut, code := run(t, "verify", "--data", data, "--db", db); code != 0 {
		t.Fatalf("verify after the hand-over = %d %s %s", code, out, errOut)
	}

	// A fork — a checkpoint of the same size with another root, signed
	// with the log's key — is refused by the witness.
	size := checkpointSize(t, cosigned.Text)
	forged, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: origin, Size: int64(size), Root: tlog.Hash(sha256.Sum256([]byte("fork")))}, logSigner)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(w.url+"/add-checkpoint", "text/plain", strings.NewReader(fmt.Sprintf("old %d\n\n%s", size, forged)))
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("the witness answered a fork %s: %s", resp.Status, reply)
	}
}

// checkpointSize reads the size line of a checkpoint's text.
func checkpointSize(t *testing.T, text string) uint64 {
	t.Helper()
	var size uint64
	lines := strings.Split(text, "\n")
	if len(lines) < 2 {
		t.Fatalf("checkpoint text %q", text)
	}
	fmt.Sscan(lines[1], &size)
	return size
}
