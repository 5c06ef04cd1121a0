package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutOpen(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sha, n, fresh, err := d.Put(strings.NewReader("evidence"), 100)
	sum := sha256.Sum256([]byte("evidence"))
	if err != nil || n != 8 || sha != hex.EncodeToString(sum[:]) || !fresh {
		t.Fatalf("Put = %s %d %v %v", sha, n, fresh, err)
	}
	if _, _, fresh, err := d.Put(strings.NewReader("evidence"), 100); err != nil || fresh {
		t.Fatalf("Put again = %v %v: a file kept before is not new", fresh, err)
	}
	f, err := d.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "evidence" {
		t.Fatalf("read back %q", b)
	}
	if _, _, _, err := d.Put(strings.NewReader(strings.Repeat("x", 101)), 100); err != ErrTooLarge {
		t.Fatalf("oversize Put = %v", err)
	}
	for _, bad := range []string{"../../etc/passwd", strings.Repeat("A", 64), sha[:63]} {
		if _, err := d.Open(bad); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
	if err := d.Remove(sha); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(sha); err == nil {
		t.Fatal("a removed file opens")
	}
	// Nothing half-written is left behind.
	entries, _ := os.ReadDir(d.root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".upload-") {
			t.Fatalf("left %s", filepath.Join(d.root, e.Name()))
		}
	}
}
