package cli

import (
	"testing"

	"github.com/truce-mvm/truce/internal/backup"
)

// TestEvidenceSaid: what backup and restore say of the evidence files: a
// PostgreSQL backup holds them in its tables, not as parts, and must not
// be reported as holding none.
func TestEvidenceSaid(t *testing.T) {
	sqlite := &backup.Manifest{Store: backup.StoreSQLite, Parts: []backup.Part{{Name: "database/truce.db"}, {Name: "blobs/ab"}, {Name: "blobs/cd"}, {Name: "keys/log.key"}}}
	if got := evidence(sqlite); got != "2 evidence files" {
		t.Errorf("SQLite: %q", got)
	}
	pg := &backup.Manifest{Store: backup.StorePostgres, Parts: []backup.Part{{Name: "database/blob_chunks.copy"}, {Name: "database/blob_files.copy"}, {Name: "keys/log.key"}}}
	if got := evidence(pg); got != "the evidence files in the database's tables" {
		t.Errorf("PostgreSQL: %q", got)
	}
	pg.Parts = append(pg.Parts, backup.Part{Name: "blobs/ef"})
	if got := evidence(pg); got != "the evidence files in the database's tables, and 1 in DIR/blobs" {
		t.Errorf("PostgreSQL with DIR/blobs: %q", got)
	}
}
