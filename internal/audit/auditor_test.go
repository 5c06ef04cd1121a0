package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/receipt"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
)

// served is the exercise instance served with two witnesses.
type served struct {
	*httpInstance
	dir   string
	creds map[string]demo.Credential
}

func serveDemo(t *testing.T) *served {
	t.Helper()
	in, dir, creds := testkit.Demo(t)
	s := &served{httpInstance: serveWith(t, in, 2, time.Now), dir: dir, creds: creds}
	s.WaitPublished(t)
	return s
}

// allege files n allegations as a party's liaison and waits until the
// witnesses have cosigned them.
func (s *served) allege(t *testing.T, n int, wait bool) {
	t.Helper()
	c := s.creds["pk-liaison"]
	key, err := entry.ReadKeyFile(c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		seq := s.In.Seq.Snapshot().Seq(c.ID)
		body := testkit.Allegation("AF", i)
		body.Occurred.From = time.Now().Add(-2 * time.Hour)
		env, err := sequencer.Sign(rules.KindAllegationFiled, demo.Origin, c.ID, seq+1, time.Now(), body, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.In.Seq.Submit(context.Background(), env, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if wait {
		s.WaitPublished(t)
	}
}

func (s *served) auditor(t *testing.T, url, stateDir string) *audit.Auditor {
	t.Helper()
	a, err := audit.NewAuditor(context.Background(), audit.AuditorConfig{
		URL: url, Token: s.creds["pk-liaison"].Token, StateDir: stateDir, Quorum: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func wantProblem(t *testing.T, err error, index int64, says string) {
	t.Helper()
	var p *audit.Problem
	if !asProblem(err, &p) || (index >= -1 && p.Index != index) || !strings.Contains(p.What, says) {
		t.Fatalf("audit = %v; want a problem at entry %d saying %q", err, index, says)
	}
}

func TestAuditorFollowsTheLog(t *testing.T) {
	s := serveDemo(t)
	state := t.TempDir()
	a := s.auditor(t, s.URL+"/log", state)
	r, err := a.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cosigners) != 2 || r.Records < 50 || r.Overdue < 1 || r.New != r.Size {
		t.Fatalf("round = %+v", r)
	}
	// The trust it keeps: the keys it pinned and the checkpoint.
	if b, _ := os.ReadFile(filepath.Join(state, "trust.json")); !bytes.Contains(b, []byte(s.In.VKey)) {
		t.Fatalf("trust.json does not pin the log key: %s", b)
	}

	// The log grows past a full bundle; a new auditor with the same state
	// re-checks what it kept and reads only what is new.
	s.allege(t, 300, true)
	b := s.auditor(t, s.URL, state)
	r2, err := b.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r2.New != r2.Size-r.Size || r2.New < 300 {
		t.Fatalf("second round = %+v after %+v", r2, r)
	}
	if _, err := os.Stat(filepath.Join(state, "entries", "000000000")); err != nil {
		t.Fatal("the first full bundle was not kept")
	}

	// Following: rounds keep passing as the log grows, until a record is
	// edited in the database; then the follower stops with the problem.
	rounds := make(chan *audit.Round, 100)
	done := make(chan error, 1)
	go func() {
		done <- b.Follow(context.Background(), 5*time.Millisecond, func(r *audit.Round, err error) {
			if err == nil {
				rounds <- r
			}
		})
	}()
	s.allege(t, 3, true)
	for r := range rounds {
		if r.Size >= r2.Size+3 {
			break
		}
	}
	db := rawDB(t, s.dir)
	if _, err := db.Exec(`UPDATE records SET doc = replace(doc, '"serious"', '"minor"') WHERE type = 'finding' AND id = 'FD-0001'`); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		wantProblem(t, err, -2, "finding/FD-0001")
	case <-time.After(20 * time.Second):
		t.Fatal("the follower did not notice the edited record")
	}
}

// A projection row edited in the database: the auditor names the record
// and the entry that last changed it.
func TestAuditorNamesAnEditedRecord(t *testing.T) {
	for _, c := range []struct{ typ, id, edit string }{
		{"allegation", "AL-0001", `replace(doc, 'Chaman', 'Quetta')`},
		{"consequence", "CQ-0001", `replace(doc, '"exercise":true', '"exercise":false')`},
	} {
		t.Run(c.typ, func(t *testing.T) {
			s := serveDemo(t)
			a := s.auditor(t, s.URL, "")
			if _, err := a.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			res, err := rawDB(t, s.dir).Exec(`UPDATE records SET doc = `+c.edit+` WHERE type = ? AND id = ?`, c.typ, c.id)
			if n, _ := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("edit: %v", err)
			}
			var updated int64
			rawDB(t, s.dir).QueryRow(`SELECT updated FROM records WHERE type = ? AND id = ?`, c.typ, c.id).Scan(&updated)
			_, err = a.Check(context.Background())
			wantProblem(t, err, updated, c.typ+"/"+c.id)
		})
	}
}

// tamper is a proxy in front of a server that can change what it serves.
type tamper struct {
	mu         sync.Mutex
	checkpoint []byte                          // served instead of the real one
	bundle     func(entries [][]byte) [][]byte // rewrites entry bundle 0
}

func (s *served) proxy(t *testing.T) (*tamper, string) {
	t.Helper()
	target, _ := url.Parse(s.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	tp := &tamper{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp.mu.Lock()
		cp, bundle := tp.checkpoint, tp.bundle
		tp.mu.Unlock()
		switch {
		case r.URL.Path == "/log/checkpoint" && cp != nil:
			w.Write(cp)
		case strings.HasPrefix(r.URL.Path, "/log/tile/entries/000") && bundle != nil:
			req, _ := http.NewRequest("GET", s.URL+r.URL.Path, nil)
			req.Header.Set("Authorization", r.Header.Get("Authorization"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				http.Error(w, fmt.Sprint("proxy: ", err), 502)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			entries, _ := tlog.BundleEntries(b)
			var out []byte
			for _, e := range bundle(entries) {
				out, _ = tlog.AppendBundleEntry(out, e)
			}
			w.Write(out)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return tp, srv.URL
}

// logSigner is the instance's checkpoint key, as an operator gone rogue
// would use it.
func (s *served) logSigner(t *testing.T) note.Signer {
	t.Helper()
	skey, err := os.ReadFile(filepath.Join(s.dir, instance.LogKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// The server signs a forked checkpoint — a different tree of the size
// already published, or a shorter tree — and shows it: the witnesses
// refuse to cosign it, and an auditor that trusted the real one alarms.
func TestForkedCheckpoints(t *testing.T) {
	ctx := context.Background()
	s := serveDemo(t)
	tp, proxied := s.proxy(t)
	a := s.auditor(t, proxied, t.TempDir())
	r, err := a.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size := r.Size
	shorterRoot, err := tlog.RootAt(ctx, s.In.Seq.Tiles(), size-5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		size     int64
		root     tlog.Hash
		auditor  string
		witnessQ []int // statuses the witness may answer
	}{
		{"same size, different root", size, tlog.Hash{1}, "forked", []int{422}},
		{"shorter tree", size - 5, shorterRoot, "rolled back", []int{409}},
	} {
		t.Run(c.name, func(t *testing.T) {
			forked, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: demo.Origin, Size: c.size, Root: c.root}, s.logSigner(t))
			if err != nil {
				t.Fatal(err)
			}
			// Each witness refuses it, from the size it cosigned.
			for _, w := range s.Witnesses {
				body := append([]byte(fmt.Sprintf("old %d\n\n", c.size)), forked...)
				resp, err := http.Post(w.URL+"/add-checkpoint", "text/plain", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.witnessQ[0] {
					t.Fatalf("witness %s answered %d to the fork, want %v", w.Name(), resp.StatusCode, c.witnessQ)
				}
			}
			// The auditor that trusted the real checkpoint alarms.
			tp.mu.Lock()
			tp.checkpoint = forked
			tp.mu.Unlock()
			_, err = a.Check(ctx)
			wantProblem(t, err, -2, c.auditor)
			// A fresh auditor, trusting nothing yet, alarms too: the fork
			// carries no witness cosignature.
			_, err = s.auditor(t, proxied, "").Check(ctx)
			wantProblem(t, err, -1, "cosignatures")
			tp.mu.Lock()
			tp.checkpoint = nil
			tp.mu.Unlock()
		})
	}
	// The witnesses still stand by the real log.
	s.allege(t, 1, true)
	if _, err := a.Check(ctx); err != nil {
		t.Fatalf("the real log after the refused forks: %v", err)
	}
}

// An entry deleted from, or two entries swapped in, what the server
// serves: the auditor names the first entry out of place.
func TestAuditorNamesDeletedAndReorderedEntries(t *testing.T) {
	s := serveDemo(t)
	tp, proxied := s.proxy(t)
	const k = 40
	for name, rewrite := range map[string]func([][]byte) [][]byte{
		"deleted":   func(e [][]byte) [][]byte { return append(append([][]byte{}, e[:k]...), e[k+1:]...) },
		"reordered": func(e [][]byte) [][]byte { e[k], e[k+1] = e[k+1], e[k]; return e },
	} {
		t.Run(name, func(t *testing.T) {
			tp.mu.Lock()
			tp.bundle = rewrite
			tp.mu.Unlock()
			_, err := s.auditor(t, proxied, "").Check(context.Background())
			wantProblem(t, err, k, "logged as entry")
		})
	}
}

// A witness down: the log keeps accepting entries; publication waits for
// the quorum and catches up when the witness answers again.
func TestWitnessDown(t *testing.T) {
	s := serveDemo(t)
	published := s.Publisher.Published().Size
	s.Witnesses[1].SetDown(true)
	s.allege(t, 5, false)
	if err := s.In.Seq.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if p := s.Publisher.Published(); p.Size != published {
		t.Fatalf("published size %d with a witness down, quorum 2", p.Size)
	}
	// The server keeps serving the last cosigned checkpoint.
	a := s.auditor(t, s.URL, "")
	if r, err := a.Check(context.Background()); err != nil || r.Size != published {
		t.Fatalf("audit with a witness down = %+v, %v", r, err)
	}
	s.Witnesses[1].SetDown(false)
	s.WaitPublished(t)
	if r, err := a.Check(context.Background()); err != nil || r.Size != published+5 || len(r.Cosigners) != 2 {
		t.Fatalf("audit after the witness returned = %+v, %v", r, err)
	}
}

// A finding's receipt verifies offline with the log's and the witnesses'
// keys, and not when anything in it is changed.
func TestFindingReceipt(t *testing.T) {
	s := serveDemo(t)
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/findings/FD-0001/receipt", nil)
	req.Header.Set("Authorization", "Bearer "+s.creds["af-liaison"].Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("receipt = %d %s", resp.StatusCode, b)
	}
	var wkeys []string
	for _, w := range s.Witnesses {
		wkeys = append(wkeys, w.VerifierKey())
	}
	r, c, err := receipt.Verify(b, s.In.VKey, wkeys, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "finding" || r.ID != "FD-0001" || len(c.Cosigners) != 2 || c.Entries[0].Kind != rules.KindFindingProposed {
		t.Fatalf("receipt %s %s: %+v", r.Type, r.ID, c)
	}
	roles := map[string]int{}
	for _, e := range c.Entries {
		roles[e.Role]++
	}
	if roles[receipt.RoleRecord] < 3 || roles[receipt.RoleKey] < 2 {
		t.Fatalf("receipt entries by role %v", roles)
	}
	_, otherVKey, _ := tlog.GenerateLogKey(demo.Origin)
	changed := func(edit func(r *receipt.Receipt)) []byte {
		var r receipt.Receipt
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		edit(&r)
		out, _ := json.Marshal(r)
		return out
	}
	for name, c := range map[string]struct {
		b     []byte
		vkey  string
		wkeys []string
		q     int
	}{
		"another log key":           {b, otherVKey, wkeys, 2},
		"three cosignatures needed": {b, s.In.VKey, wkeys, 3},
		"no witness keys":           {b, s.In.VKey, nil, 1},
		"not JSON":                  {[]byte("{"), s.In.VKey, wkeys, 2},
		"an index changed":          {changed(func(r *receipt.Receipt) { r.Entries[1].Index++ }), s.In.VKey, wkeys, 2},
		"the checkpoint changed": {changed(func(r *receipt.Receipt) {
			r.Checkpoint = strings.Replace(r.Checkpoint, "\n\n", "\nextra line\n\n", 1)
		}), s.In.VKey, wkeys, 2},
		"a leaf changed": {changed(func(r *receipt.Receipt) {
			p, _ := tlog.ParseReceipt([]byte(r.Entries[0].Proof))
			p.Extra = bytes.Replace(p.Extra, []byte(`"logged":"`), []byte(`"logged":"1`), 1)
			r.Entries[0].Proof = string(p.Marshal())
		}), s.In.VKey, wkeys, 2},
		"the key entries dropped": {changed(func(r *receipt.Receipt) {
			r.Entries = slices.DeleteFunc(r.Entries, func(e receipt.Entry) bool { return e.Role == receipt.RoleKey })
		}), s.In.VKey, wkeys, 2},
	} {
		if _, _, err := receipt.Verify(c.b, c.vkey, c.wkeys, c.q); err == nil {
			t.Errorf("a receipt with %s verified", name)
		}
	}
}

// The overdue set is what the caller may see of it, as of a log size.
func TestOverdueByAccess(t *testing.T) {
	s := serveDemo(t)
	overdue := func(member string) wire.Overdue {
		var o wire.Overdue
		if err := client.New(s.URL, s.creds[member].Token).Do(context.Background(), "GET", "/api/v1/overdue", nil, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	size := s.In.Seq.Snapshot().Size
	mech, pk := overdue("admin"), overdue("pk-liaison")
	if mech.AsOf != size || pk.AsOf != size {
		t.Fatalf("as_of %d and %d; the log has %d entries", mech.AsOf, pk.AsOf, size)
	}
	seen := map[string]bool{}
	for _, o := range mech.Items {
		seen[o.Kind+o.ID] = true
	}
	for _, o := range pk.Items {
		if !seen[o.Kind+o.ID] {
			t.Fatalf("a party sees %s %s overdue, the mechanism does not", o.Kind, o.ID)
		}
	}
	if len(pk.Items) == 0 || len(pk.Items) >= len(mech.Items) {
		t.Fatalf("a party sees %d overdue items, the mechanism %d: the mechanism's own work should be hidden from parties", len(pk.Items), len(mech.Items))
	}
}
