package blob

import (
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/truce-mvm/truce"
)

// TestNoSpace: a full disk is named as such, with the code every surface
// answers 507 for; other errors pass as they are.
func TestNoSpace(t *testing.T) {
	full := fmt.Errorf("write /data/blobs/.upload-1: %w", syscall.ENOSPC)
	if err := noSpace(full); truce.ErrorCode(err) != truce.CodeNoSpace {
		t.Fatalf("noSpace(ENOSPC) = %v, code %q", err, truce.ErrorCode(err))
	}
	if err := noSpace(fs.ErrPermission); err != fs.ErrPermission {
		t.Fatalf("noSpace(EPERM) = %v", err)
	}
	if noSpace(nil) != nil {
		t.Fatal("noSpace(nil) is an error")
	}
}
