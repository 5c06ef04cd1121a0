package postgres

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/store/storetest"
	"github.com/truce-mvm/truce/internal/tlog"
)

type buffer struct{ bytes.Buffer }

func (*buffer) Close() error { return nil }

// TestDumpAndLoad dumps a store that another connection keeps appending
// to, and loads the dump into an empty schema: the dump is one committed
// state (its tiles give its tree's root, its newest checkpoint is for its
// tree), it holds every table of the schema, and the loaded store reads
// back the same state. A schema that holds tables, a dump missing a table
// and an unknown schema version are refused, leaving nothing behind.
func TestDumpAndLoad(t *testing.T) {
	ctx := context.Background()
	src, srcURL := open(t, Options{Migrate: true})
	if err := src.SetMeta(ctx, "origin", "dump.example/log"); err != nil {
		t.Fatal(err)
	}
	// The writer goes on until the dump is taken and the log has grown
	// past it, however slow the dump: it races the dump whatever the load.
	done, stop := make(chan error, 1), make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := storetest.Load(t, src, 1, 5, 200); err != nil {
				done <- err
				return
			}
		}
	}()
	// A few batches first, so that the dump races the writer.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if size, _, _ := src.Tree(ctx); size >= 50 {
			break
		}
	}
	parts := map[string]*buffer{}
	snap, err := Dump(ctx, srcURL, func(table string) (io.WriteCloser, error) {
		b := &buffer{}
		parts[table] = b
		return b, nil
	}, "origin", "absent")
	if err != nil {
		close(stop)
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if size, _, _ := src.Tree(ctx); size > snap.Size {
			break
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("the writer failed beside the dump: %v", err)
	}
	if snap.Size%5 != 0 || snap.Size == 0 || snap.Meta["origin"] != "dump.example/log" || len(snap.Meta) != 1 {
		t.Fatalf("dumped state: size %d, meta %v", snap.Size, snap.Meta)
	}
	var names []string
	for _, tb := range snap.Tables {
		names = append(names, tb.Name)
	}
	for _, want := range []string{"bundles", "checkpoints", "meta", "records", "schema_version", "tiles", "tree", "tokens", "counters"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Fatalf("the dump has no table %s: %v", want, names)
		}
	}
	if size, _, _ := src.Tree(ctx); size <= snap.Size {
		t.Fatalf("the writer went on to %d entries; the dump has %d: it did not race it", size, snap.Size)
	}

	load := func(url string, schema int, tables []Table) error {
		l, err := NewLoader(ctx, url, schema, tables)
		if err != nil {
			return err
		}
		defer l.Close()
		for _, tb := range tables {
			if err := l.Copy(ctx, tb.Name, bytes.NewReader(parts[tb.Name].Bytes())); err != nil {
				return err
			}
		}
		st, err := l.State(ctx, "origin")
		if err != nil {
			return err
		}
		if st.Size != snap.Size || st.Root != snap.Root || !bytes.Equal(st.Checkpoint, snap.Checkpoint) || st.Meta["origin"] != "dump.example/log" {
			t.Fatalf("loaded state %d %v differs from the dump's %d %v", st.Size, st.Root, snap.Size, snap.Root)
		}
		return l.Commit(ctx)
	}
	dst := Schema(t, testURL(t))
	if err := load(dst, snap.Schema, snap.Tables[1:]); err == nil || !strings.Contains(err.Error(), "the dump has no table "+snap.Tables[0].Name) {
		t.Fatalf("a dump missing a table: %v", err)
	}
	if err := load(dst, snap.Schema+1, snap.Tables); err == nil {
		t.Fatal("a dump of an unknown schema version was loaded")
	}
	if err := load(dst, snap.Schema, snap.Tables); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size, root, err := db.Tree(ctx)
	if err != nil || size != snap.Size || root != snap.Root {
		t.Fatalf("the loaded store's tree: %d %v %v", size, root, err)
	}
	if got, err := tlog.RootAt(ctx, db, size); err != nil || got != root {
		t.Fatalf("the loaded tiles give root %v (%v), the tree %v", got, err, root)
	}
	cp, cpSize, err := db.Checkpoint(ctx)
	if err != nil || cpSize != size || !bytes.Equal(cp, snap.Checkpoint) {
		t.Fatalf("the loaded newest checkpoint: %d %v", cpSize, err)
	}
	// It holds the dumped log: appends go on from there.
	if err := storetest.Load(t, db, 1, 1, 10); err != nil {
		t.Fatalf("a batch after the loaded log: %v", err)
	}
	if after, _, _ := db.Tree(ctx); after != size+1 {
		t.Fatalf("the loaded store grew from %d to %d", size, after)
	}
	// Loading again into the same schema is refused: it holds an instance now.
	if err := load(dst, snap.Schema, snap.Tables); err == nil || !strings.Contains(err.Error(), "already holds the instance dump.example/log") {
		t.Fatalf("a load into a schema holding an instance: %v", err)
	}
}
