package sequencer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/tlog"
)

func TestFileAllegation(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	ctx := context.Background()
	before := env.Size()
	ack := env.Submit(t, env.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1)))
	if ack.Index != before || ack.Record == nil || ack.Record.ID != "AL-0001" || !ack.Logged.Equal(testkit.Start) {
		t.Fatalf("ack = %+v", ack)
	}
	rec, err := env.In.Store.Record(ctx, rules.TypeAllegation, "AL-0001")
	if err != nil {
		t.Fatal(err)
	}
	var a truce.Allegation
	if err := json.Unmarshal(rec.Doc, &a); err != nil {
		t.Fatal(err)
	}
	if a.Accused != "AF" || a.FilingParty != "PK" || a.FiledBy != "pk-liaison" || a.EventType != "Explosions/Remote violence" || a.Index != ack.Index || !a.Exercise {
		t.Fatalf("allegation = %+v", a)
	}
	hist, _ := env.In.Store.History(ctx, rules.TypeAllegation, "AL-0001")
	if len(hist) != 1 || hist[0].Index != ack.Index || hist[0].Author != "pk-liaison" {
		t.Fatalf("history = %+v", hist)
	}
	// A checkpoint covering the entry is published within the interval.
	waitCheckpoint(t, env, ack.Index+1)
}

func waitCheckpoint(t *testing.T, env *testkit.Env, size int64) {
	t.Helper()
	cp := env.WaitCheckpoint(t, size)
	c, err := tlog.OpenCheckpoint(cp.Signed, testkit.Origin, env.In.Verifier)
	if err != nil || c.Size != cp.Size {
		t.Fatalf("published checkpoint does not verify: %v", err)
	}
}

// Every invalid entry is refused with a code naming the problem, and the
// log does not grow.
func TestRefusals(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	pk := env.Signers["pk-liaison"]
	good := testkit.Allegation("AF", 7)
	with := func(edit func(*truce.AllegationFiling)) truce.AllegationFiling {
		a := good
		edit(&a)
		return a
	}
	stranger, _ := entry.GenerateKey("stranger")
	future := testkit.Start.Add(time.Hour)
	for _, c := range []struct {
		name string
		env  func() *dsse.Envelope
		code truce.Code
		msg  string
	}{
		{"bad signature", func() *dsse.Envelope {
			e := pk.Sign(t, rules.KindAllegationFiled, good)
			raw, _ := e.DecodeB64Payload()
			e.Payload = b64(bytes.Replace(raw, []byte("Mortar"), []byte("Rocket"), 1))
			return e
		}, truce.CodeBadSignature, "does not verify"},
		{"signed by a key not the author's", func() *dsse.Envelope {
			s := &testkit.Signer{ID: "pk-liaison", Key: stranger}
			return signWith(t, s, env, rules.KindAllegationFiled, 100, good)
		}, truce.CodeUnknownAuthor, "not registered to pk-liaison"},
		{"unknown author", func() *dsse.Envelope {
			return signWith(t, &testkit.Signer{ID: "nobody", Key: stranger}, env, rules.KindAllegationFiled, 1, good)
		}, truce.CodeUnknownAuthor, "no member"},
		{"wrong origin", func() *dsse.Envelope {
			e, _ := sequencerSign(rules.KindAllegationFiled, "other.example/log", "pk-liaison", 100, good, pk.Key)
			return e
		}, truce.CodeWrongOrigin, "other.example/log"},
		{"reused seq", func() *dsse.Envelope {
			env.Submit(t, pk.SignSeq(t, rules.KindAllegationFiled, 5, good))
			return pk.SignSeq(t, rules.KindAllegationFiled, 5, good)
		}, truce.CodeReusedSeq, "not above"},
		{"lower seq", func() *dsse.Envelope { return pk.SignSeq(t, rules.KindAllegationFiled, 4, good) }, truce.CodeReusedSeq, "not above"},
		{"unknown clause", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 6, with(func(a *truce.AllegationFiling) { a.Clauses = []string{"no-such-clause"} }))
		}, truce.CodeUnknownClause, "no-such-clause"},
		{"latitude off the globe", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 7, with(func(a *truce.AllegationFiling) { a.Place.Lat = 91 }))
		}, truce.CodeBadLocation, "body.place.lat"},
		{"longitude off the globe", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 8, with(func(a *truce.AllegationFiling) { a.Place.Lon = -180.5 }))
		}, truce.CodeBadLocation, "body.place.lon"},
		{"event in the future", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 9, with(func(a *truce.AllegationFiling) { a.Occurred.From = future }))
		}, truce.CodeBadTime, "in the future"},
		{"signed in the future", func() *dsse.Envelope {
			e, _ := sequencerSignAt(rules.KindAllegationFiled, testkit.Origin, "pk-liaison", 64, future, good, pk.Key)
			return e
		}, truce.CodeBadTime, "payload.time"},
		{"narrative too long", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 11, with(func(a *truce.AllegationFiling) { a.Narrative = strings.Repeat("x", 20001) }))
		}, truce.CodeInvalid, "the limit is 20000"},
		{"leaf over 64 KiB", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 12, with(func(a *truce.AllegationFiling) {
				a.Narrative = strings.Repeat("\u0905", 19000) // 3 bytes each, escaped in base64: > 64 KiB
				a.Sources = []truce.Source{{Title: strings.Repeat("z", 300)}}
			}))
		}, truce.CodeTooLarge, "limit is 65535"},
		{"mediator may not file", func() *dsse.Envelope {
			return env.Signers["tr-mediator"].Sign(t, rules.KindAllegationFiled, good)
		}, truce.CodeForbidden, "mediator may not sign"},
		{"liaison accusing its own party", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 13, testkit.Allegation("PK", 1))
		}, truce.CodeForbidden, "not its own"},
		{"member may not register members", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindMemberRegistered, 68, rules.MemberRegistration{ID: "x", Name: "x", Role: truce.RoleLiaison, Party: "PK"})
		}, truce.CodeForbidden, "may not sign"},
		{"unknown kind", func() *dsse.Envelope { return pk.SignSeq(t, "allegation.deleted", 69, good) }, truce.CodeInvalid, "unknown kind"},
		{"unknown field", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 16, json.RawMessage(`{"category":"armed_clash","extra":1}`))
		}, truce.CodeInvalid, "unknown field"},
		{"second genesis", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindInstanceCreated, 17, rules.Instance{Origin: testkit.Origin, Name: "x", SystemKey: pk.Key.PublicKey(), LogKey: "x"})
		}, truce.CodeForbidden, ""},
		// One meaning per entry (strict rules).
		{"a seq far past the last", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, 5+rules.SeqWindow+1, good)
		}, truce.CodeInvalid, "past pk-liaison's last seq"},
		{"a seq at the end of its range", func() *dsse.Envelope {
			return pk.SignSeq(t, rules.KindAllegationFiled, math.MaxUint64, good)
		}, truce.CodeInvalid, "2^53"},
		{"signed in 1970", func() *dsse.Envelope {
			e, _ := sequencerSignAt(rules.KindAllegationFiled, testkit.Origin, "pk-liaison", 6, time.Unix(0, 0), good, pk.Key)
			return e
		}, truce.CodeBadTime, "before it is logged"},
		{"a name given twice", func() *dsse.Envelope {
			b, _ := json.Marshal(good)
			dup := append([]byte(`{"narrative":"It was the other side.",`), b[1:]...)
			return pk.SignSeq(t, rules.KindAllegationFiled, 6, json.RawMessage(dup))
		}, truce.CodeInvalid, "given twice"},
		{"names differing in case", func() *dsse.Envelope {
			b, _ := json.Marshal(good)
			dup := append([]byte(`{"NARRATIVE":"It was the other side.",`), b[1:]...)
			return pk.SignSeq(t, rules.KindAllegationFiled, 6, json.RawMessage(dup))
		}, truce.CodeInvalid, "not lowercase ASCII"},
		{"invalid UTF-8", func() *dsse.Envelope {
			b, _ := json.Marshal(good)
			bad := bytes.Replace(b, []byte(`"narrative":"`), []byte("\"narrative\":\"\xff"), 1)
			return pk.SignSeq(t, rules.KindAllegationFiled, 6, json.RawMessage(bad))
		}, truce.CodeInvalid, "UTF-8"},
		{"two signatures", func() *dsse.Envelope {
			e := pk.SignSeq(t, rules.KindAllegationFiled, 18, good)
			e.Signatures = append(e.Signatures, e.Signatures[0])
			return e
		}, truce.CodeInvalid, "exactly one signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := c.env()
			size := env.Size()
			treeSize, _, _ := env.In.Store.Tree(context.Background())
			_, err := env.In.Seq.Submit(context.Background(), e, nil, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if got := truce.ErrorCode(err); got != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error = %s %q, want %s containing %q", got, err, c.code, c.msg)
			}
			if env.Size() != size {
				t.Fatal("the log grew")
			}
			if n, _, _ := env.In.Store.Tree(context.Background()); n != treeSize {
				t.Fatal("the stored tree grew")
			}
		})
	}
}

func b64(b []byte) string { return encodeStd(b) }

// TestConcurrentSubmitters submits from many goroutines and checks that
// every acknowledged entry is at its index, in one consistent log.
func TestConcurrentSubmitters(t *testing.T) {
	env := testkit.New(t, instance.Options{})
	acks := submitMany(t, env, 400, nil)
	size, root, _ := env.In.Store.Tree(context.Background())
	checkAcked(t, env.In.Store, acks, size, root)
}

type acked struct {
	index int64
	env   *dsse.Envelope
}

// submitMany submits n allegations from 16 authors at once (the two
// liaisons and the monitors), each author's in seq order. It returns those
// acknowledged; errors fail the test unless errs collects them.
func submitMany(t *testing.T, env *testkit.Env, n int, errs *[]error) []acked {
	t.Helper()
	authors := []string{"pk-liaison", "af-liaison"}
	for i := 1; i <= testkit.Monitors; i++ {
		authors = append(authors, testkit.MonitorID(i))
	}
	var mu sync.Mutex
	var out []acked
	var wg sync.WaitGroup
	for w, author := range authors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			against := []string{"AF", "PK"}[w%2]
			for i := w; i < n; i += len(authors) {
				e := env.Signers[author].Sign(t, rules.KindAllegationFiled, testkit.Allegation(against, i))
				ack, err := env.In.Seq.Submit(context.Background(), e, nil, nil)
				mu.Lock()
				switch {
				case err == nil:
					out = append(out, acked{ack.Index, e})
				case errs == nil:
					t.Error(err)
				default:
					*errs = append(*errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// checkAcked checks that every acknowledged entry is stored at its index in
// a tree whose tiles give root, and that no checkpoint covers more than
// the stored tree.
func checkAcked(t *testing.T, st store.Store, acks []acked, size int64, root tlog.Hash) {
	t.Helper()
	ctx := context.Background()
	if got, err := tlog.RootAt(ctx, st, size); err != nil || got != root {
		t.Fatalf("stored tiles give root %v (%v), tree row says %v", got, err, root)
	}
	leaves := map[int64][]byte{}
	if err := store.Leaves(ctx, st, 0, size, func(i int64, leaf []byte) error {
		leaves[i] = bytes.Clone(leaf)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		leaf, ok := leaves[a.index]
		if !ok {
			t.Fatalf("acknowledged entry %d is not in the stored log of size %d", a.index, size)
		}
		_, e, err := entry.DecodeLeaf(leaf, a.index)
		if err != nil || e.Envelope.Payload != a.env.Payload {
			t.Fatalf("entry %d is not the one acknowledged", a.index)
		}
	}
	err := st.Checkpoints(ctx, func(cpSize int64, _ []byte) error {
		if cpSize > size {
			return fmt.Errorf("checkpoint for size %d, but the stored tree has %d", cpSize, size)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashAtEveryStep fails a batch commit at each of its steps, then
// reopens the data directory: every acknowledged entry is there, nothing
// unacknowledged is half there, no checkpoint covers an unstored tree, and
// the reopened log keeps accepting entries.
func TestCrashAtEveryStep(t *testing.T) {
	for _, step := range []string{"begin", "tiles", "bundles", "records", "history", "checkpoint", "commit"} {
		t.Run(step, func(t *testing.T) {
			var armed sync.Mutex
			fail := false
			faults := sqlite.Options{Fail: func(s string) error {
				armed.Lock()
				defer armed.Unlock()
				if fail && s == step {
					fail = false
					return errors.New("injected fault at " + step)
				}
				return nil
			}}
			env := testkit.New(t, instance.Options{StoreOptions: faults})
			acks := submitMany(t, env, 40, nil)
			armed.Lock()
			fail = true
			armed.Unlock()
			var errs []error
			acks = append(acks, submitMany(t, env, 60, &errs)...)
			if len(errs) == 0 && step != "commit" {
				t.Fatal("the injected fault refused nothing")
			}
			for _, err := range errs {
				if truce.ErrorCode(err) != truce.CodeUnavailable {
					t.Fatalf("a refused entry got %v, want unavailable", err)
				}
			}
			if cp := env.In.Seq.Checkpoint(); cp != nil {
				size, _, _ := env.In.Store.Tree(context.Background())
				if cp.Size > size {
					t.Fatalf("published checkpoint of size %d for a stored tree of %d", cp.Size, size)
				}
			}
			// The sequencer recovered: more entries go in.
			acks = append(acks, submitMany(t, env, 20, nil)...)
			env.In.Close()

			in, err := instance.Open(context.Background(), env.Dir, instance.Options{Clock: env.Clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			env.In = in
			size, root, _ := in.Store.Tree(context.Background())
			checkAcked(t, in.Store, acks, size, root)
			if cp := in.Seq.Checkpoint(); cp == nil || cp.Size != size {
				t.Fatalf("after reopening, checkpoint does not cover the tree of %d", size)
			}
			env.Submit(t, env.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 999)))
		})
	}
}

// TestBatchOnAFailedOne: entries gathered while the batch before them is
// being committed were applied on top of it; when the store refuses that
// batch, they are refused too, the state is rebuilt from the store, and
// the log goes on with every acknowledged entry in place.
func TestBatchOnAFailedOne(t *testing.T) {
	block, entered := make(chan struct{}), make(chan struct{}, 1)
	var armed sync.Mutex
	fail := false
	faults := sqlite.Options{Fail: func(s string) error {
		armed.Lock()
		stop := fail && s == "records"
		fail = fail && !stop
		armed.Unlock()
		if stop {
			entered <- struct{}{}
			<-block
			return errors.New("injected fault")
		}
		return nil
	}}
	env := testkit.New(t, instance.Options{StoreOptions: faults})
	acks := submitMany(t, env, 10, nil)
	committed, _, _ := env.In.Store.Tree(context.Background())
	armed.Lock()
	fail = true
	armed.Unlock()

	authors := []string{"pk-liaison", testkit.MonitorID(1), testkit.MonitorID(2), testkit.MonitorID(3)}
	errs := make(chan error, len(authors))
	submit := func(author string, i int) {
		_, err := env.In.Seq.Submit(context.Background(), env.Signers[author].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", i)), nil, nil)
		errs <- err
	}
	go submit(authors[0], 100)
	<-entered // its batch is in the store, held
	for i, a := range authors[1:] {
		go submit(a, 101+i)
	}
	for deadline := time.Now().Add(5 * time.Second); sequencer.WorkingSize(env.In.Seq) < committed+int64(len(authors)); {
		if time.Now().After(deadline) {
			t.Fatalf("the entries after the held batch were never gathered: working size %d", sequencer.WorkingSize(env.In.Seq))
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(block)
	for range authors {
		if err := <-errs; truce.ErrorCode(err) != truce.CodeUnavailable {
			t.Fatalf("an entry of or on the failed batch got %v, want unavailable", err)
		}
	}
	if size, _, _ := env.In.Store.Tree(context.Background()); size != committed {
		t.Fatalf("the store's tree is %d after a failed batch, want %d", size, committed)
	}
	if got := sequencer.WorkingSize(env.In.Seq); got != committed {
		t.Fatalf("the working state is %d entries after the failure, the store %d: not rebuilt", got, committed)
	}
	// The same authors go on, and everything acknowledged is in place.
	acks = append(acks, submitMany(t, env, 20, nil)...)
	size, root, _ := env.In.Store.Tree(context.Background())
	checkAcked(t, env.In.Store, acks, size, root)
}
