package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/tlog"
)

const origin = "witness.test/log"

type memTiles struct {
	mu sync.Mutex
	m  map[[2]int64][]byte
}

func (m *memTiles) ReadTile(_ context.Context, l int, n int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.m[[2]int64{int64(l), n}]; ok {
		return d, nil
	}
	return nil, tlog.ErrNotFound
}

func (m *memTiles) put(td tlog.TileData) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[[2]int64{int64(td.Tile.L), td.Tile.N}] = td.Data
}

// fakeLog grows a tree and signs checkpoints with a log key.
type fakeLog struct {
	t      testing.TB
	tiles  *memTiles
	tree   *tlog.Tree
	signer note.Signer
	vkey   string
}

func newFakeLog(t testing.TB) *fakeLog {
	skey, vkey, _ := tlog.GenerateLogKey(origin)
	s, _ := note.NewSigner(skey)
	m := &memTiles{m: map[[2]int64][]byte{}}
	empty, _ := tlog.RootAt(context.Background(), nil, 0)
	tree, _ := tlog.OpenTree(context.Background(), m, 0, empty)
	return &fakeLog{t: t, tiles: m, tree: tree, signer: s, vkey: vkey}
}

func (l *fakeLog) grow(n int) []byte {
	var leaves [][]byte
	for i := 0; i < n; i++ {
		leaves = append(leaves, fmt.Appendf(nil, "leaf %d", l.tree.Size()+int64(i)))
	}
	g, _ := l.tree.Grow(context.Background(), leaves)
	for _, td := range append(g.Tiles, g.Bundles...) {
		l.tiles.put(td)
	}
	l.tree.Commit(g)
	return l.checkpoint(g.Size, g.Root)
}

func (l *fakeLog) checkpoint(size int64, root tlog.Hash) []byte {
	cp, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: origin, Size: size, Root: root}, l.signer)
	if err != nil {
		l.t.Fatal(err)
	}
	return cp
}

// request builds an add-checkpoint body from old to the checkpoint's size.
func (l *fakeLog) request(old int64, cp []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	c, _ := tlog.OpenCheckpoint(cp, origin, mustVerifier(l.vkey))
	if old > 0 && old <= c.Size {
		p, err := tlog.ConsistencyProof(context.Background(), l.tiles, old, c.Size)
		if err != nil {
			l.t.Fatal(err)
		}
		for _, h := range p {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(cp)
	return b.Bytes()
}

func mustVerifier(vkey string) note.Verifier {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		panic(err)
	}
	return v
}

func newWitness(t *testing.T, l *fakeLog) (*Witness, *httptest.Server) {
	return newWitnessIn(t, t.TempDir(), l)
}

func newWitnessIn(t *testing.T, dir string, l *fakeLog) (*Witness, *httptest.Server) {
	if _, err := Init(dir, "witness.test/w1"); err != nil {
		t.Fatal(err)
	}
	if err := AddLog(context.Background(), dir, l.vkey); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return w, srv
}

func post(t *testing.T, srv *httptest.Server, body []byte) (int, string, string) {
	resp, err := http.Post(srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), resp.Header.Get("Content-Type")
}

func TestAddCheckpoint(t *testing.T) {
	l := newFakeLog(t)
	dir := t.TempDir()
	w, srv := newWitnessIn(t, dir, l)
	cosigner, err := fnote.NewVerifierForCosignatureV1(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	cp10 := l.grow(10)
	code, sigs, _ := post(t, srv, l.request(0, cp10))
	if code != 200 || !strings.HasPrefix(sigs, "— witness.test/w1 ") {
		t.Fatalf("first checkpoint = %d %q", code, sigs)
	}
	// The cosignature verifies on the checkpoint with the witness's key.
	if _, err := note.Open(append(bytes.Clone(cp10), sigs...), note.VerifierList(cosigner)); err != nil {
		t.Fatalf("cosignature does not verify: %v", err)
	}
	cp300 := l.grow(290)
	if code, body, _ := post(t, srv, l.request(10, cp300)); code != 200 {
		t.Fatalf("a consistent checkpoint = %d %s", code, body)
	}
	// A stale old size: 409 with the size the witness knows.
	cp301 := l.grow(1)
	code, body, ct := post(t, srv, l.request(10, cp301))
	if code != 409 || body != "300\n" || ct != "text/x.tlog.size" {
		t.Fatalf("stale old size = %d %q %q", code, body, ct)
	}
	// Unknown origin.
	other := newFakeLog(t)
	other.signer, _ = note.NewSigner(mustSkey("other.test/log"))
	if code, _, _ := post(t, srv, []byte("old 0\n\nother.test/log\n1\n"+base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n\n— other.test/log AAAA\n")); code != 404 {
		t.Fatalf("unknown origin = %d", code)
	}
	// Signed by another key under the right origin.
	skey, _, _ := tlog.GenerateLogKey(origin)
	forger, _ := note.NewSigner(skey)
	forged, _ := tlog.SignCheckpoint(tlog.Checkpoint{Origin: origin, Size: 301, Root: l.tree.Root()}, forger)
	if code, _, _ := post(t, srv, l.request(300, forged)); code != 403 {
		t.Fatalf("a checkpoint signed by another key = %d", code)
	}
	// Old size beyond the checkpoint; malformed bodies.
	for _, bad := range [][]byte{
		[]byte("old 400\n\n" + string(cp301)), []byte("old 300\n" + string(cp301)), []byte("old 0300\n\n" + string(cp301)),
		[]byte("old -1\n\n" + string(cp301)), []byte("size 300\n\n" + string(cp301)), []byte("old 300\nnot-base64!\n\n" + string(cp301)),
	} {
		if code, body, _ := post(t, srv, bad); code != 400 {
			t.Errorf("%q = %d %s", bad[:12], code, body)
		}
	}
	// A fork: same size, different root; and a bad proof.
	fork := l.checkpoint(300, tlog.Hash{1})
	if code, body, _ := post(t, srv, l.request(300, fork)); code != 422 || !strings.Contains(body, "forked") {
		t.Fatalf("same size, different root = %d %s", code, body)
	}
	badProof := bytes.Replace(l.request(300, cp301), []byte("\n\n"), []byte("\n"+base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n\n"), 1)
	if code, _, _ := post(t, srv, badProof); code != 422 {
		t.Fatalf("a bad proof = %d", code)
	}
	// A shorter tree than cosigned: the old size is wrong, 409.
	if code, body, _ := post(t, srv, l.request(10, cp10)); code != 409 || body != "300\n" {
		t.Fatalf("rolling back = %d %q", code, body)
	}
	// The refusals changed nothing; the alarms are kept.
	if code, _, _ := post(t, srv, l.request(300, cp301)); code != 200 {
		t.Fatal("the witness's state moved on a refused request")
	}
	if alarms, _ := w.Alarms(context.Background()); len(alarms) != 2 {
		t.Fatalf("alarms %v", alarms)
	}
	// The state survives a restart.
	w.Close()
	srv.Close()
	w, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	again := httptest.NewServer(w)
	defer again.Close()
	if code, body, _ := post(t, again, l.request(10, l.grow(1))); code != 409 || body != "301\n" {
		t.Fatalf("after a restart = %d %q", code, body)
	}
}

func mustSkey(name string) string {
	skey, _, _ := tlog.GenerateLogKey(name)
	return skey
}

// Concurrent submissions from one size: exactly one wins, and the state
// never goes back.
func TestCompareAndSwap(t *testing.T) {
	l := newFakeLog(t)
	_, srv := newWitness(t, l)
	if code, _, _ := post(t, srv, l.request(0, l.grow(5))); code != 200 {
		t.Fatal("first checkpoint refused")
	}
	var reqs [][]byte
	for i := 0; i < 12; i++ {
		reqs = append(reqs, l.request(5, l.grow(1)))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for _, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, _ := post(t, srv, r)
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case 200:
				won++
			case 409:
			default:
				t.Errorf("status %d", code)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d requests from the same old size were cosigned", won)
	}
}

func FuzzAddCheckpoint(f *testing.F) {
	f.Add([]byte("old 0\n\nwitness.test/log\n1\nAAAA\n\n— witness.test/log AAAA\n"))
	f.Add([]byte("old 10\nAAAA\n\n"))
	l := newFakeLog(f)
	dir := f.TempDir()
	Init(dir, "witness.test/w1")
	AddLog(context.Background(), dir, l.vkey)
	w, err := Open(dir, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer w.Close()
	f.Add(l.request(0, l.grow(3)))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := w.AddCheckpoint(context.Background(), body)
		var fl *failure
		if err != nil && !asFailure(err, &fl) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func asFailure(err error, f **failure) bool {
	e, ok := err.(*failure)
	*f = e
	return ok
}
