// Package blobtest is the conformance suite every blob.Store passes: what
// is kept reads back whole, by any range, and Kept says it is there; the
// same bytes are kept once, also when put at once; what is refused (over
// its limit, not its hash) or removed is not kept.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/truce-mvm/truce/internal/blob"
)

// Chunk is the size in which the PostgreSQL store cuts files: the suite's
// sizes fall on either side of its multiples. For a store that does not
// cut files they are sizes like any other.
const Chunk = 1 << 20

// Run runs the suite on stores newStore makes, each empty.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, blob.Store)
	}{
		{"PutOpen", testPutOpen},
		{"Ranges", testRanges},
		{"Dedupe", testDedupe},
		{"Remove", testRemove},
		{"NotAHash", testNotAHash},
		{"TooLarge", testTooLarge},
		{"Mismatch", testMismatch},
		{"Concurrent", testConcurrent},
		{"Sizes", testSizes},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, newStore(t)) })
	}
}

// content is n bytes that differ from one seed to the next.
func content(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(n))
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// put puts b and fails the test on an error.
func put(t *testing.T, s blob.Store, b []byte) (sha string, fresh bool) {
	t.Helper()
	sha, size, fresh, err := blob.Put(context.Background(), s, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Put of %d bytes: %v", len(b), err)
	}
	if sha != hash(b) || size != int64(len(b)) {
		t.Fatalf("Put of %d bytes = %s %d, want %s", len(b), sha, size, hash(b))
	}
	return sha, fresh
}

// readBack opens sha and checks it reads as want, whole.
func readBack(t *testing.T, s blob.Store, sha string, want []byte) {
	t.Helper()
	if ok, err := s.Kept(context.Background(), sha); !ok || err != nil {
		t.Fatalf("Kept %s = %v %v", sha[:8], ok, err)
	}
	f, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("Open %s: %v", sha[:8], err)
	}
	defer f.Close()
	if f.Size() != int64(len(want)) {
		t.Fatalf("Size = %d, want %d", f.Size(), len(want))
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("reading %s: %v", sha[:8], err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, not the %d put", len(got), len(want))
	}
}

// absent checks that sha does not open, as a file that is not there.
func absent(t *testing.T, s blob.Store, sha string) {
	t.Helper()
	f, err := s.Open(context.Background(), sha)
	if err == nil {
		f.Close()
		t.Fatalf("%s opens: it should not be kept", sha[:8])
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of an absent file = %v, want fs.ErrNotExist", err)
	}
	if ok, err := s.Kept(context.Background(), sha); ok || err != nil {
		t.Fatalf("Kept of an absent file = %v %v", ok, err)
	}
}

func testPutOpen(t *testing.T, s blob.Store) {
	b := []byte("evidence")
	sha, fresh := put(t, s, b)
	if !fresh {
		t.Fatal("the first Put of a file is not fresh")
	}
	readBack(t, s, sha, b)
	// A file's bytes are read the same however often it is opened.
	readBack(t, s, sha, b)
	absent(t, s, hash([]byte("never put")))
}

// testRanges reads a file of several chunks by seeking, from each end and
// from where the reader is, across the chunks' edges and past the end.
func testRanges(t *testing.T, s blob.Store) {
	b := content(1, 2*Chunk+Chunk/2)
	sha, _ := put(t, s, b)
	f, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := int64(len(b))
	for _, r := range []struct {
		offset int64
		whence int
		at     int64 // where that is
		length int
	}{
		{0, io.SeekStart, 0, 10},
		{Chunk - 3, io.SeekStart, Chunk - 3, 6},          // across the first edge
		{-5, io.SeekEnd, n - 5, 100},                     // a short read at the end
		{-(n - 2*Chunk) - 1, io.SeekEnd, 2*Chunk - 1, 2}, // across the second edge, from the end
		{0, io.SeekStart, 0, Chunk + 7},                  // more than a chunk in one read
		{10, io.SeekCurrent, Chunk + 17, 1},
		{-Chunk, io.SeekCurrent, 18, 3},
		{n, io.SeekStart, n, 1}, // at the end: nothing
		{n + 100, io.SeekStart, n + 100, 1},
		{Chunk, io.SeekStart, Chunk, 0},
	} {
		at, err := f.Seek(r.offset, r.whence)
		if err != nil || at != r.at {
			t.Fatalf("Seek(%d, %d) = %d %v, want %d", r.offset, r.whence, at, err, r.at)
		}
		got := make([]byte, r.length)
		k, err := io.ReadFull(f, got)
		want := b[min(at, n):min(at+int64(r.length), n)]
		if !bytes.Equal(got[:k], want) {
			t.Fatalf("at %d, %d bytes read back wrong (%d read)", at, r.length, k)
		}
		switch {
		case len(want) == r.length && err != nil:
			t.Fatalf("at %d, reading %d: %v", at, r.length, err)
		case len(want) < r.length && len(want) > 0 && err != io.ErrUnexpectedEOF,
			len(want) == 0 && r.length > 0 && err != io.EOF:
			t.Fatalf("at %d, reading %d of which %d are there: %v", at, r.length, len(want), err)
		}
		// After a read the reader is where the read ended.
		if cur, err := f.Seek(0, io.SeekCurrent); err != nil || cur != at+int64(k) {
			t.Fatalf("after reading %d at %d the reader is at %d %v", k, at, cur, err)
		}
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("a seek before the start succeeded")
	}
	if _, err := f.Seek(0, 42); err == nil {
		t.Fatal("a seek from nowhere succeeded")
	}
}

func testDedupe(t *testing.T, s blob.Store) {
	b := content(2, Chunk+1)
	sha, fresh := put(t, s, b)
	again, fresh2 := put(t, s, b)
	if !fresh || fresh2 || again != sha {
		t.Fatalf("two puts of one file: fresh %v then %v, hashes %s %s", fresh, fresh2, sha[:8], again[:8])
	}
	other, fresh3 := put(t, s, content(3, Chunk+1))
	if !fresh3 || other == sha {
		t.Fatal("another file of the same size is not kept apart")
	}
	readBack(t, s, sha, b)
}

func testRemove(t *testing.T, s blob.Store) {
	ctx := context.Background()
	b, keep := content(4, 2*Chunk+9), content(5, 100)
	sha, _ := put(t, s, b)
	kept, _ := put(t, s, keep)
	if err := s.Remove(ctx, sha); err != nil {
		t.Fatal(err)
	}
	absent(t, s, sha)
	readBack(t, s, kept, keep) // only that file went
	if err := s.Remove(ctx, sha); err != nil {
		t.Fatalf("Remove of an absent file = %v", err)
	}
	// Put again, it is new again, and whole.
	if _, fresh := put(t, s, b); !fresh {
		t.Fatal("a file put again after its removal is not fresh")
	}
	readBack(t, s, sha, b)
}

func testNotAHash(t *testing.T, s blob.Store) {
	ctx := context.Background()
	sha, _ := put(t, s, []byte("x"))
	for _, bad := range []string{"", "../../etc/passwd", strings.ToUpper(sha), sha[:63], sha + "0", "../" + sha[3:]} {
		if f, err := s.Open(ctx, bad); err == nil {
			f.Close()
			t.Errorf("opened %q", bad)
		}
		if err := s.Remove(ctx, bad); err == nil {
			t.Errorf("removed %q", bad)
		}
		if _, err := s.Kept(ctx, bad); err == nil {
			t.Errorf("Kept of %q", bad)
		}
	}
	readBack(t, s, sha, []byte("x"))
}

// testTooLarge: a file over the limit is refused, whether it is found over
// within a chunk or past one, and nothing of it is kept.
func testTooLarge(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, n := range []int{101, Chunk + 1, 2*Chunk + 5} {
		b := content(6, n)
		max := int64(n - 1)
		if n > 101 {
			max = Chunk
		}
		if _, _, _, err := blob.Put(ctx, s, bytes.NewReader(b), max); !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("Put of %d bytes with a limit of %d = %v, want ErrTooLarge", n, max, err)
		}
		absent(t, s, hash(b))
		absent(t, s, hash(b[:max])) // nor the part under the limit
	}
	// At the limit exactly, it is kept.
	b := content(7, Chunk)
	if _, _, _, err := blob.Put(ctx, s, bytes.NewReader(b), Chunk); err != nil {
		t.Fatalf("a file at the limit: %v", err)
	}
}

// testMismatch: Keep keeps the bytes staged under their own hash and size
// only; a staged file whose hash or size was changed is refused and kept
// under neither.
func testMismatch(t *testing.T, s blob.Store) {
	ctx := context.Background()
	b := content(8, Chunk+3)
	other := hash(content(9, 10))
	for name, change := range map[string]func(st *blob.Staged){
		"hash": func(st *blob.Staged) { st.SHA256 = other },
		"size": func(st *blob.Staged) { st.Size-- },
		"name": func(st *blob.Staged) { st.SHA256 = "../" + st.SHA256[3:] },
	} {
		st, err := s.Stage(ctx, bytes.NewReader(b), Chunk*2)
		if err != nil {
			t.Fatal(err)
		}
		change(st)
		fresh, err := st.Keep(ctx)
		st.Discard()
		if err == nil || fresh {
			t.Fatalf("a staged file whose %s was changed was kept (fresh %v)", name, fresh)
		}
		absent(t, s, hash(b))
		absent(t, s, other)
	}
	// A file staged and discarded is not kept.
	st, err := s.Stage(ctx, bytes.NewReader(b), Chunk*2)
	if err != nil {
		t.Fatal(err)
	}
	st.Discard()
	absent(t, s, hash(b))
}

// testConcurrent: uploads of the same bytes at once all succeed, the file
// is kept once and whole, and exactly one of them is told it is new.
func testConcurrent(t *testing.T, s blob.Store) {
	b := content(10, 2*Chunk+77)
	const n = 6
	var wg sync.WaitGroup
	fresh := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			var sha string
			sha, _, fresh[i], errs[i] = blob.Put(context.Background(), s, bytes.NewReader(b), int64(len(b)))
			if errs[i] == nil && sha != hash(b) {
				errs[i] = fmt.Errorf("hash %s", sha)
			}
		})
	}
	wg.Wait()
	count := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("put %d: %v", i, errs[i])
		}
		if fresh[i] {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d of %d puts at once were told the file is new, want 1", count, n)
	}
	readBack(t, s, hash(b), b)
}

// testSizes puts files of sizes on either side of the chunks' edges and
// reads each back by a random walk of seeks and reads of random lengths,
// against the bytes put.
func testSizes(t *testing.T, s blob.Store) {
	sizes := []int{0, 1, 2}
	for _, k := range []int{1, 2, 3} {
		sizes = append(sizes, k*Chunk-1, k*Chunk, k*Chunk+1)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 3 {
		sizes = append(sizes, r.IntN(3*Chunk))
	}
	for i, n := range sizes {
		b := content(uint64(100+i), n)
		sha, _ := put(t, s, b)
		readBack(t, s, sha, b)
		f, err := s.Open(context.Background(), sha)
		if err != nil {
			t.Fatal(err)
		}
		at := int64(0)
		for range 40 {
			switch r.IntN(3) {
			case 0:
				at = int64(r.IntN(n + 2))
				if _, err := f.Seek(at, io.SeekStart); err != nil {
					t.Fatal(err)
				}
			case 1:
				d := int64(r.IntN(2*Chunk+1) - Chunk)
				if at+d < 0 {
					d = -at
				}
				at += d
				if got, err := f.Seek(d, io.SeekCurrent); err != nil || got != at {
					t.Fatalf("Seek(%d, current) = %d %v, want %d", d, got, err, at)
				}
			}
			buf := make([]byte, r.IntN(Chunk+Chunk/2))
			k, err := io.ReadFull(f, buf)
			end := min(at+int64(len(buf)), int64(n))
			want := b[min(at, int64(n)):end]
			if k != len(want) || !bytes.Equal(buf[:k], want) {
				f.Close()
				t.Fatalf("size %d: %d bytes at %d read back wrong (%d read, %v)", n, len(buf), at, k, err)
			}
			if k < len(buf) && err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("size %d: short read at %d: %v", n, at, err)
			}
			at += int64(k)
		}
		f.Close()
	}
}
