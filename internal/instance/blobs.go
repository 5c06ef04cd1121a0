package instance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/truce-mvm/truce/internal/blob"
)

// filesInDB is a store that keeps the evidence files itself (PostgreSQL's),
// spooling uploads in a local directory on their way in.
type filesInDB interface {
	Files(spool string) (blob.Store, error)
}

// spool is where uploads to a store that keeps files in its database are
// received: DIR/spool, or the system's temporary directory for an
// instance opened by its database alone.
func (in *Instance) spool() string {
	if in.Dir == "" {
		return filepath.Join(os.TempDir(), "truce-spool")
	}
	return filepath.Join(in.Dir, SpoolDir)
}

// moveFiles copies the files of DIR/blobs into a database that keeps them
// itself (an instance on PostgreSQL from before it did), each checked
// against its name; a file it holds already is skipped. DIR/blobs is left
// as it was. A file whose bytes are not its name is an error: nothing
// after it is copied, and migrate can be run again once it is dealt with.
func (in *Instance) moveFiles(ctx context.Context, log *slog.Logger) error {
	if _, ok := in.Store.(filesInDB); !ok {
		return nil
	}
	root := filepath.Join(in.Dir, BlobDir)
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	files, err := in.Blobs()
	if err != nil {
		return err
	}
	copied := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || blob.CheckSHA(d.Name()) != nil {
			return err // leftovers of uploads (.upload-*) are not files kept
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		st, err := files.Stage(ctx, f, fi.Size())
		if err != nil {
			return fmt.Errorf("copying %s into the database: %w", path, err)
		}
		defer st.Discard()
		if st.SHA256 != d.Name() {
			return fmt.Errorf("copying %s into the database: its bytes hash to %s, not its name", path, st.SHA256)
		}
		fresh, err := st.Keep(ctx)
		if err != nil {
			return fmt.Errorf("copying %s into the database: %w", path, err)
		}
		if fresh {
			copied++
		}
		return nil
	})
	if copied > 0 && log != nil {
		log.Info("evidence files copied into the database; the directory may be removed", "files", copied, "dir", root)
	}
	return err
}
