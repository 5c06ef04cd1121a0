package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/blob/blobtest"
	"github.com/truce-mvm/truce/internal/store"
)

// TestFilesConformance runs the blob stores' suite on the database's.
func TestFilesConformance(t *testing.T) {
	testURL(t)
	if ChunkSize != blobtest.Chunk {
		t.Fatalf("the suite cuts at %d, the store at %d", blobtest.Chunk, ChunkSize)
	}
	blobtest.Run(t, func(t *testing.T) blob.Store {
		db, _ := open(t, Options{Migrate: true})
		spool := t.TempDir()
		files, err := db.Files(spool)
		if err != nil {
			t.Fatal(err)
		}
		// Whatever the case did, every chunk belongs to a file whole and
		// nothing is left in the spool.
		t.Cleanup(func() {
			checkChunks(t, db)
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Errorf("left in the spool: %v", left)
			}
		})
		return files
	})
}

// checkChunks checks that the chunks in db are exactly those of its files:
// numbered from 0, as many and as long as each file's size says.
func checkChunks(t *testing.T, db *DB) {
	t.Helper()
	var bad int
	err := db.pool.QueryRow(context.Background(), `SELECT
		(SELECT COUNT(*) FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blob_files f WHERE f.sha256 = c.sha256)) +
		(SELECT COUNT(*) FROM blob_files f WHERE f.size <> COALESCE((SELECT SUM(length(data)) FROM blob_chunks c WHERE c.sha256 = f.sha256), 0)
			OR (SELECT COUNT(*) FROM blob_chunks c WHERE c.sha256 = f.sha256) <> (f.size + $1 - 1) / $1
			OR EXISTS (SELECT 1 FROM blob_chunks c WHERE c.sha256 = f.sha256 AND (c.n * $1 >= f.size OR (length(c.data) <> $1 AND (c.n + 1) * $1 < f.size))))`,
		ChunkSize).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d chunks or files are not whole", bad)
	}
}

// TestFilesLazy: a file opened reads only the chunks its reads reach, and a
// chunk gone or of the wrong length is an error, not other bytes.
func TestFilesLazy(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, Options{Migrate: true})
	files, err := db.Files(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Repeat([]byte("0123456789abcdef"), 3*ChunkSize/16+5)
	sha, size, fresh, err := blob.Put(ctx, files, bytes.NewReader(b), int64(len(b)))
	if err != nil || !fresh || size != int64(len(b)) {
		t.Fatalf("Put = %d %v %v", size, fresh, err)
	}
	var chunks int
	db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM blob_chunks WHERE sha256 = $1`, sha).Scan(&chunks)
	if chunks != 4 {
		t.Fatalf("%d bytes kept in %d chunks, want 4", len(b), chunks)
	}
	f, err := files.Open(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := db.pool.Exec(ctx, `DELETE FROM blob_chunks WHERE sha256 = $1 AND n = 0`, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE blob_chunks SET data = substr(data, 1, 10) WHERE sha256 = $1 AND n = 1`, sha); err != nil {
		t.Fatal(err)
	}
	f.Seek(2*ChunkSize+3, io.SeekStart)
	got := make([]byte, 10)
	if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, b[2*ChunkSize+3:][:10]) {
		t.Fatalf("reading the third chunk: %q %v", got, err)
	}
	f.Seek(0, io.SeekStart)
	if n, err := f.Read(got); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("reading a chunk gone = %d %v", n, err)
	}
	f.Seek(ChunkSize, io.SeekStart)
	if n, err := f.Read(got); err == nil || !strings.Contains(err.Error(), "holds 10 bytes") {
		t.Fatalf("reading a chunk cut short = %d %v", n, err)
	}
	// Removed, it is gone, all of it.
	if err := files.Remove(ctx, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Open(ctx, sha); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a removed file = %v", err)
	}
	db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM blob_chunks WHERE sha256 = $1`, sha).Scan(&chunks)
	if chunks != 0 {
		t.Fatalf("%d chunks left of a removed file", chunks)
	}
}

// TestFilesTampered: a spooled file changed on disk before Keep is refused
// and nothing of it reaches the database.
func TestFilesTampered(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, Options{Migrate: true})
	spool := t.TempDir()
	files, err := db.Files(spool)
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Repeat([]byte{7}, 2*ChunkSize+1)
	for _, change := range []func(path string){
		func(path string) { os.WriteFile(path, append(bytes.Clone(b[:len(b)-1]), 8), 0o600) }, // one byte
		func(path string) { os.WriteFile(path, append(bytes.Clone(b), b...), 0o600) },         // longer
		func(path string) { os.WriteFile(path, b[:ChunkSize], 0o600) },                        // shorter
	} {
		st, err := files.Stage(ctx, bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		tmps, _ := filepath.Glob(filepath.Join(spool, ".upload-*"))
		if len(tmps) != 1 {
			t.Fatalf("spooled: %v", tmps)
		}
		change(tmps[0])
		if fresh, err := st.Keep(ctx); err != blob.ErrMismatch || fresh {
			t.Fatalf("Keep of a file changed since staged = %v %v, want ErrMismatch", fresh, err)
		}
		st.Discard()
		var rows int
		db.pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM blob_files) + (SELECT COUNT(*) FROM blob_chunks)`).Scan(&rows)
		if rows != 0 {
			t.Fatalf("%d rows kept of a refused file", rows)
		}
	}
}

// FuzzChunked reads a file cut in chunks by a sequence of seeks and reads
// and compares every answer with bytes.Reader's over the same bytes.
func FuzzChunked(f *testing.F) {
	f.Add(uint16(10), uint8(3), []byte{0, 5, 1, 2, 2, 0, 9})
	f.Add(uint16(0), uint8(1), []byte{1, 1})
	f.Add(uint16(1000), uint8(7), []byte{0, 200, 3, 100, 2, 255, 1, 7, 0, 0})
	f.Fuzz(func(t *testing.T, size uint16, chunk uint8, ops []byte) {
		if chunk == 0 {
			return
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		fetched := map[int64]int{}
		c := &chunked{size: int64(size), chunk: int64(chunk), held: -1, fetch: func(n int64) ([]byte, error) {
			fetched[n]++
			lo := n * int64(chunk)
			if lo >= int64(size) {
				t.Fatalf("fetched chunk %d of a file of %d bytes in chunks of %d", n, size, chunk)
			}
			return bytes.Clone(data[lo:min(lo+int64(chunk), int64(size))]), nil
		}}
		want := bytes.NewReader(data)
		for len(ops) >= 2 {
			op, arg := ops[0], int64(int8(ops[1]))*int64(chunk)/8+int64(ops[1]%5)
			ops = ops[2:]
			switch op % 4 {
			case 0, 1, 2: // seek from start, current, end
				w, werr := want.Seek(arg, int(op%4))
				g, gerr := c.Seek(arg, int(op%4))
				if (werr == nil) != (gerr == nil) || (werr == nil && w != g) {
					t.Fatalf("Seek(%d, %d) = %d %v, bytes.Reader: %d %v", arg, op%4, g, gerr, w, werr)
				}
			case 3:
				n := int(uint8(arg)) + 1
				wb, gb := make([]byte, n), make([]byte, n)
				wn, werr := io.ReadFull(want, wb)
				gn, gerr := io.ReadFull(c, gb)
				if wn != gn || werr != gerr || !bytes.Equal(wb[:wn], gb[:gn]) {
					t.Fatalf("reading %d: %d %v, bytes.Reader: %d %v", n, gn, gerr, wn, werr)
				}
			}
		}
		// Whole, from the start: each chunk fetched once more at most.
		c.Seek(0, io.SeekStart)
		clear(fetched)
		all, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("read whole: %d bytes, %v", len(all), err)
		}
		for n, k := range fetched {
			if k > 1 {
				t.Fatalf("chunk %d fetched %d times in one pass", n, k)
			}
		}
	})
}

// pattern yields n bytes that are not all alike, without holding them.
type pattern struct{ off, n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		x := uint64(p.off+int64(i)) * 0x9E3779B97F4A7C15
		b[i] = byte(x >> 56)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// TestFilesMemory puts and reads back a file of 64 MiB and watches the
// heap meanwhile: neither holds the file in memory, only a chunk or two.
// It logs the throughput to and from the database.
func TestFilesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB through the database")
	}
	ctx := context.Background()
	db, _ := open(t, Options{Migrate: true})
	files, err := db.Files(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 64 << 20
	want := sha256.New()
	io.Copy(want, &pattern{n: n})

	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	began := time.Now()
	sha, size, _, err := blob.Put(ctx, files, &pattern{n: n}, n)
	if err != nil || size != n || sha != hex.EncodeToString(want.Sum(nil)) {
		t.Fatalf("Put = %s %d %v", sha, size, err)
	}
	put := time.Since(began)
	f, err := files.Open(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	got := sha256.New()
	if k, err := io.Copy(got, f); err != nil || k != n || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes, %v", k, err)
	}
	read := time.Since(began)
	f.Close()
	close(stop)
	<-done
	grew := int64(peak.Load()) - int64(base)
	t.Logf("64 MiB: put %v (%.0f MiB/s, spool and hash included), read %v (%.0f MiB/s); heap grew by %.1f MiB at most",
		put.Round(time.Millisecond), 64/put.Seconds(), read.Round(time.Millisecond), 64/read.Seconds(), float64(grew)/(1<<20))
	if grew > 32<<20 {
		t.Fatalf("the heap grew by %d MiB for a file of 64 MiB", grew>>20)
	}
}

// TestRemoveAcrossProcesses: two handles on one database, as two
// processes. Remove leaves a file that an upload record names (the other
// process's upload of the same bytes); and Kept, asked while a removal
// holds the file's row, waits for it and answers what it did: gone once
// committed, there once rolled back.
func TestRemoveAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	db1, u := open(t, Options{Migrate: true})
	db2, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	one, err := db1.Files(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	two, err := db2.Files(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Repeat([]byte("a photograph of the crater "), ChunkSize/16)
	sha, _, _, err := blob.Put(ctx, one, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	kept := func(s blob.Store) bool {
		t.Helper()
		ok, err := s.Kept(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// A record names it: it stays, whole.
	if err := db2.PutBlob(ctx, store.Blob{SHA256: sha, Size: int64(len(b)), MediaType: "image/jpeg", Name: "crater.jpg", Uploader: "af-liaison", Party: "AF", Uploaded: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := one.Remove(ctx, sha); err != nil {
		t.Fatal(err)
	}
	if !kept(two) {
		t.Fatal("Remove took a file an upload record names")
	}
	checkChunks(t, db1)
	if err := db2.DeleteBlob(ctx, sha, "AF"); err != nil {
		t.Fatal(err)
	}

	// A removal in progress, committed, then one rolled back.
	for _, commit := range []bool{true, false} {
		if !kept(one) {
			if _, _, _, err := blob.Put(ctx, one, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
		}
		inside, release := make(chan struct{}), make(chan struct{})
		released := sync.OnceFunc(func() { close(release) })
		defer released() // a failure below lets the removal end, so that the handles close
		one.(*Files).removing = func() error {
			close(inside)
			<-release
			if !commit {
				return errors.New("rolled back")
			}
			return nil
		}
		removed := make(chan error, 1)
		go func() { removed <- one.Remove(ctx, sha) }()
		<-inside
		answer := make(chan bool, 1)
		go func() {
			ok, err := two.Kept(ctx, sha)
			if err != nil {
				t.Error(err)
			}
			answer <- ok
		}()
		// Kept waits on the row's lock, as the database itself says.
		for deadline := time.Now().Add(10 * time.Second); ; {
			var waiting int
			if err := db1.pool.QueryRow(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR SHARE%'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			select {
			case ok := <-answer:
				t.Fatalf("Kept answered %v while a removal held the file", ok)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("Kept is not waiting on the removal's lock")
			}
			runtime.Gosched()
		}
		released()
		err := <-removed
		if ok := <-answer; ok != !commit || (err != nil) == commit {
			t.Fatalf("a removal (committed: %v, %v): Kept answered %v", commit, err, ok)
		}
		one.(*Files).removing = nil
		checkChunks(t, db1)
	}
	if !kept(one) {
		t.Fatal("the file is not there after the rolled back removal")
	}
	readBack := func() []byte {
		f, err := two.Open(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, _ := io.ReadAll(f)
		return got
	}
	if !bytes.Equal(readBack(), b) {
		t.Fatal("the file read back differs")
	}
	if _, err := one.Kept(ctx, "not a hash"); err == nil {
		t.Fatal("Kept of a string that is not a hash")
	}
}
