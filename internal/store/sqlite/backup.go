package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Snapshot copies the database at src to the new file dst (mode 0600) as
// one consistent state, with SQLite's online backup API
// (sqlite3_backup_*), beside a process that is writing src: it reads src
// through a read-only connection of its own, which takes no lock that
// stops the writer (WAL mode), and copies every page in one step, that
// is within one read transaction, so the copy is the database as of one
// commit. dst must not exist.
func Snapshot(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	// An empty file is an empty database to SQLite: made here so that it is
	// the caller's alone from the start.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: src}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		bc, ok := dc.(interface {
			NewBackup(dst string) (*sqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("the SQLite driver offers no backup API (%T)", dc)
		}
		// A busy source (a writer checkpointing its WAL, say) is waited out.
		for attempt := 0; ; attempt++ {
			b, err := bc.NewBackup(dst)
			if err != nil {
				return fmt.Errorf("snapshot of %s: %w", src, err)
			}
			_, err = b.Step(-1)
			if ferr := b.Finish(); err == nil {
				err = ferr
			}
			if err == nil {
				return nil
			}
			var se *sqlite.Error
			if !errors.As(err, &se) || (se.Code()&0xff != sqlite3.SQLITE_BUSY && se.Code()&0xff != sqlite3.SQLITE_LOCKED) || attempt >= 50 {
				return fmt.Errorf("snapshot of %s: %w", src, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
