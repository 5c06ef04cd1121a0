package submit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/store"
	"github.com/truce-mvm/truce/internal/store/postgres"
	"github.com/truce-mvm/truce/internal/submit"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// hookedRecords calls its hooks before a party's upload is recorded or
// forgotten.
type hookedRecords struct {
	store.Blobs
	beforePut, beforeDelete func()
}

func (h *hookedRecords) PutBlob(ctx context.Context, b store.Blob) error {
	if h.beforePut != nil {
		h.beforePut()
	}
	return h.Blobs.PutBlob(ctx, b)
}

func (h *hookedRecords) DeleteBlob(ctx context.Context, sha, party string) error {
	if h.beforeDelete != nil {
		h.beforeDelete()
	}
	return h.Blobs.DeleteBlob(ctx, sha, party)
}

// hookedFiles calls its hooks around a file's removal.
type hookedFiles struct {
	blob.Store
	beforeRemove, afterRemove func()
}

func (h *hookedFiles) Remove(ctx context.Context, sha string) error {
	if h.beforeRemove != nil {
		h.beforeRemove()
	}
	err := h.Store.Remove(ctx, sha)
	if h.afterRemove != nil {
		h.afterRemove()
	}
	return err
}

// TestTakenBackFileAcrossProcesses: two processes over one PostgreSQL
// database. In one, a monitor uploads a file as evidence that the rules
// refuse, so the upload is taken back: its record, and the file it
// brought. In the other, meanwhile, AF's liaison uploads the same bytes,
// after the first kept the file (so it finds it there and brings
// nothing) and before the first took it back. Whichever of the taking
// back and the liaison's record comes first, the liaison's upload ends
// with its record and its file, whole.
func TestTakenBackFileAcrossProcesses(t *testing.T) {
	for _, order := range []string{"removed, then recorded", "recorded, then removed"} {
		t.Run(order, func(t *testing.T) {
			ctx := context.Background()
			db := pgtest.URL(t)
			env := testkit.New(t, instance.Options{DB: db})
			filesA, err := env.In.Blobs()
			if err != nil {
				t.Fatal(err)
			}
			// The second process: its own handle on the database.
			other, err := postgres.Open(ctx, db, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			filesB, err := other.Files(filepath.Join(t.TempDir(), "spool"))
			if err != nil {
				t.Fatal(err)
			}
			recA := &hookedRecords{Blobs: env.In.Store}
			keptA := &hookedFiles{Store: filesA}
			recB := &hookedRecords{Blobs: other}
			a := submit.New(submit.Config{Seq: env.In.Seq, Vault: env.In.Vault, Files: keptA, Blobs: recA, Records: env.In.Store})
			b := submit.New(submit.Config{Files: filesB, Blobs: recB, Records: other})
			viewer := func(id string) policy.Viewer {
				m, ok := env.In.Seq.Snapshot().Member(id)
				if !ok {
					t.Fatalf("no member %s", id)
				}
				return policy.Viewer{Member: &m, Scopes: policy.AllScopes, Session: true}
			}
			file := bytes.Repeat([]byte("the crater, from the east road; "), 40000) // two chunks

			// The liaison's upload runs in its own goroutine, held just
			// before its record is written until released.
			atPut, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			recB.beforePut = func() {
				recB.beforePut = nil // once
				close(atPut)
				<-release
			}
			liaison := viewer("af-liaison")
			started, finished := false, false
			recA.beforeDelete = func() { // the taking back begins
				started = true
				go func() {
					_, err := b.StoreFile(ctx, liaison, "crater.jpg", "image/jpeg", bytes.NewReader(file))
					done <- err
				}()
				select {
				case <-atPut:
				case err := <-done:
					t.Errorf("the liaison's upload ended before its record: %v", err)
				}
			}
			released := sync.OnceFunc(func() { close(release) })
			defer released() // a failure below lets the liaison's upload end, so that the handles close
			finish := func() {
				finished = true
				released()
				if err := <-done; err != nil {
					t.Errorf("the liaison's upload: %v", err)
				}
			}
			if order == "removed, then recorded" {
				keptA.afterRemove = finish
			} else {
				keptA.beforeRemove = finish
			}
			_, err = a.Evidence(ctx, viewer(testkit.MonitorID(1)), "crater.jpg", "image/jpeg", bytes.NewReader(file),
				&truce.EvidenceRegistration{CapturedBy: "monitor", CapturedAt: testkit.Start.Add(-time.Hour), Description: "The crater", Case: "CS-0099"})
			if err == nil {
				t.Fatal("evidence on a case that does not exist was registered")
			}
			if !started || !finished {
				t.Fatalf("the refused upload's record was not taken back (%v) or its file not removed (%v): %v", started, finished, err)
			}
			if t.Failed() {
				return
			}

			sum := blobHash(file)
			if _, err := other.Blob(ctx, sum, "AF"); err != nil {
				t.Fatalf("the liaison's record: %v", err)
			}
			if _, err := env.In.Store.Blob(ctx, sum, truce.Mechanism); err == nil {
				t.Fatal("the refused upload's record was kept")
			}
			for name, files := range map[string]blob.Store{"the first process": filesA, "the second process": filesB} {
				f, err := files.Open(ctx, sum)
				if err != nil {
					t.Fatalf("%s: the file the liaison's record names: %v", name, err)
				}
				got, err := io.ReadAll(f)
				f.Close()
				if err != nil || !bytes.Equal(got, file) {
					t.Fatalf("%s reads %d bytes of the liaison's file, not %d: %v", name, len(got), len(file), err)
				}
			}
		})
	}
}

func blobHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
