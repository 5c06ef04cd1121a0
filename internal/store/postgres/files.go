package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
)

// ChunkSize is the size of the rows a file is kept in: each read of a
// file fetches one, so memory holds at most one per open file, and a
// row stays well under what either database handles at ease.
const ChunkSize = 1 << 20

// Files is a blob.Store in the database (tables blob_files and
// blob_chunks): the files every process over the database reads,
// whichever of them received them.
//
// An upload is first spooled to a temporary file on local disk (one may
// be 256 MiB: it is never held in memory), its size limit checked and its
// hash computed; Keep then sends it chunk by chunk, hashing what it sends
// again, and commits the file's row with its chunks in one transaction.
type Files struct {
	db    *DB
	spool string
	// removing, if set, is called by Remove before it commits a removal;
	// an error it returns rolls the removal back (tests: what waits for
	// it).
	removing func() error
}

var _ blob.Store = (*Files)(nil)

// Files returns the database's store of files, spooling uploads in the
// directory spool (created if absent; what uploads left there unfinished
// long ago is removed, blob.SweepStale).
func (db *DB) Files(spool string) (blob.Store, error) {
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, err
	}
	blob.SweepStale(spool)
	return &Files{db: db, spool: spool}, nil
}

// Stage implements blob.Store.
func (f *Files) Stage(_ context.Context, r io.Reader, max int64) (*blob.Staged, error) {
	return blob.Spool(f.spool, r, max, f.keep)
}

// keep sends the staged file in chunks, in the transaction that adds its
// row. The row goes first: a second upload of the same bytes waits on it
// until the first commits (and then keeps nothing) or rolls back (and then
// keeps its own).
func (f *Files) keep(ctx context.Context, st *blob.Staged, path string) (fresh bool, err error) {
	if err := blob.CheckSHA(st.SHA256); err != nil {
		return false, err
	}
	defer func() {
		if err = noSpace(err); truce.ErrorCode(err) == truce.CodeNoSpace {
			f.db.full.Store(true)
		}
	}()
	// Kept already: nothing to send.
	var one int
	err = f.db.pool.QueryRow(ctx, `SELECT 1 FROM blob_files WHERE sha256 = $1`, st.SHA256).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	in, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer in.Close()
	tx, err := f.db.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `INSERT INTO blob_files (sha256, size) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`, st.SHA256, st.Size)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 { // another upload kept it meanwhile
		return false, nil
	}
	h := sha256.New()
	buf := make([]byte, ChunkSize)
	var size int64
	for n := int64(0); ; n++ {
		k, err := io.ReadFull(in, buf)
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return false, err
		}
		if size += int64(k); size > st.Size {
			return false, blob.ErrMismatch
		}
		h.Write(buf[:k])
		if _, err := tx.Exec(ctx, `INSERT INTO blob_chunks (sha256, n, data) VALUES ($1, $2, $3)`, st.SHA256, n, buf[:k]); err != nil {
			return false, err
		}
		if k < ChunkSize {
			break
		}
	}
	if err := blob.Check(st, size, h.Sum(nil)); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// Open implements blob.Store. The file reads its chunks as it is read,
// within ctx: a file opened for a request is read within the request.
func (f *Files) Open(ctx context.Context, sha string) (blob.File, error) {
	if err := blob.CheckSHA(sha); err != nil {
		return nil, err
	}
	var size int64
	err := f.db.pool.QueryRow(ctx, `SELECT size FROM blob_files WHERE sha256 = $1`, sha).Scan(&size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("no file %s: %w", sha, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	return &chunked{size: size, chunk: ChunkSize, held: -1, fetch: func(n int64) ([]byte, error) {
		var data []byte
		err := f.db.pool.QueryRow(ctx, `SELECT data FROM blob_chunks WHERE sha256 = $1 AND n = $2`, sha, n).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("chunk %d of the file %s is missing (removed while read?)", n, sha)
		}
		return data, err
	}}, nil
}

// Remove implements blob.Store: the file's row and its chunks, in one
// transaction, unless an upload record names the file. Several processes
// share the database, each locking a file's hash only within itself: one
// may take back a refused upload's file while another records its own
// upload of the same bytes. The row is locked before the records are
// looked at, so that a Kept in the other process waits for this
// transaction and then sees the file gone (and keeps it again), and a
// record committed before the lock is seen here.
func (f *Files) Remove(ctx context.Context, sha string) error {
	if err := blob.CheckSHA(sha); err != nil {
		return err
	}
	// Read committed, whatever the server's default: the DELETE must see
	// what committed while the lock was waited for.
	tx, err := f.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM blob_files WHERE sha256 = $1 FOR UPDATE`, sha).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM blob_files WHERE sha256 = $1 AND NOT EXISTS (SELECT 1 FROM uploads WHERE sha256 = $1)`, sha)
	if err != nil || tag.RowsAffected() == 0 {
		return err // an upload names it: it stays
	}
	if _, err := tx.Exec(ctx, `DELETE FROM blob_chunks WHERE sha256 = $1`, sha); err != nil {
		return err
	}
	if f.removing != nil {
		if err := f.removing(); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// Kept implements blob.Store: the file's row, read under a share lock,
// which waits for a Remove in progress to commit or roll back.
func (f *Files) Kept(ctx context.Context, sha string) (bool, error) {
	if err := blob.CheckSHA(sha); err != nil {
		return false, err
	}
	tx, err := f.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM blob_files WHERE sha256 = $1 FOR SHARE`, sha).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// chunked reads a file of size bytes cut in chunks of chunk bytes (the
// last shorter), fetching a chunk when a read first needs it and holding
// only that one.
type chunked struct {
	size, chunk int64
	off         int64
	held        int64 // the chunk in data; -1 none
	data        []byte
	fetch       func(n int64) ([]byte, error)
	closed      bool
}

func (c *chunked) Size() int64 { return c.size }

// Read reads from the chunk the offset is in, fetching it if it is not the
// one held; a chunk of another length than its place says is an error.
func (c *chunked) Read(p []byte) (int, error) {
	if c.closed {
		return 0, os.ErrClosed
	}
	if c.off >= c.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := c.off / c.chunk
	if n != c.held {
		data, err := c.fetch(n)
		if err != nil {
			return 0, err
		}
		if want := min(c.chunk, c.size-n*c.chunk); int64(len(data)) != want {
			return 0, fmt.Errorf("chunk %d of the file holds %d bytes, not %d", n, len(data), want)
		}
		c.held, c.data = n, data
	}
	k := copy(p, c.data[c.off-n*c.chunk:])
	c.off += int64(k)
	return k, nil
}

// Seek sets where the next Read reads, as os.File's: past the end reads
// nothing; before the start is an error.
func (c *chunked) Seek(offset int64, whence int) (int64, error) {
	if c.closed {
		return 0, os.ErrClosed
	}
	var at int64
	switch whence {
	case io.SeekStart:
		at = offset
	case io.SeekCurrent:
		at = c.off + offset
	case io.SeekEnd:
		at = c.size + offset
	default:
		return 0, fmt.Errorf("seek: whence %d", whence)
	}
	if at < 0 {
		return 0, errors.New("seek: negative position")
	}
	c.off = at
	return at, nil
}

// Close lets go of the chunk held.
func (c *chunked) Close() error {
	c.closed, c.data = true, nil
	return nil
}
