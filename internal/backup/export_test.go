package backup

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/c2sp"
	"github.com/truce-mvm/truce/internal/tlog"
)

// mirror serves a directory as a static web server would, with the
// content types of tlog-tiles.
func mirror(t *testing.T, dir string) string {
	fs := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/tile/") {
			w.Header().Set("Content-Type", "application/octet-stream")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestExportLog exports a serving instance's log (over a full tile, with a
// sealed allegation in it) and has the independent verifier accept the
// static files as the same log as the instance's checkpoint; the sealed
// allegation's narrative is in no exported file while a clear one's is. A
// second export brings the mirror up to date, writing only what is new;
// an export from an older copy of the log (a rollback) and from another
// log are refused, as is a mirror whose tile was changed.
func TestExportLog(t *testing.T) {
	ctx := context.Background()
	env := testkit.New(t, instance.Options{})
	for n := range 280 {
		env.Submit(t, env.Signers[testkit.MonitorID(1+n%testkit.Monitors)].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", n)))
	}
	secret := testkit.Allegation("PK", 1)
	secret.Narrative, secret.Visibility = "SEALED-NARRATIVE-7f3a: the patrol's route", "mechanism"
	sealedEnv := env.Signers[testkit.MonitorID(1)].Sign(t, rules.KindAllegationFiled, secret)
	if testkit.Opening(sealedEnv) == nil {
		t.Fatal("the mechanism's allegation was not sealed")
	}
	env.Submit(t, sealedEnv)
	clear := testkit.Allegation("PK", 2)
	clear.Narrative = "CLEAR-NARRATIVE-91bc: mortar fire"
	env.Submit(t, env.Signers[testkit.MonitorID(2)].Sign(t, rules.KindAllegationFiled, clear))
	env.WaitCheckpoint(t, env.Size())

	// An older copy of the log, for the rollback below.
	oldDir := t.TempDir()
	if err := sqlite.Snapshot(ctx, filepath.Join(env.Dir, instance.DBFile), filepath.Join(oldDir, instance.DBFile)); err != nil {
		t.Fatal(err)
	}

	in, err := instance.OpenStore(ctx, env.Dir) // beside the serving instance
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "mirror")
	ex, err := ExportLog(ctx, in, out)
	if err != nil {
		t.Fatal(err)
	}
	cp, size, err := in.Store.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c2sp.VerifyStatic(ctx, mirror(t, out), in.Origin, in.VKey)
	if err != nil {
		t.Fatalf("the independent verifier refuses the export: %v", err)
	}
	c, _ := tlog.OpenCheckpoint(cp, in.Origin, in.Verifier)
	if int64(res.Size) != size || ex.Size != size || !bytes.Equal(res.Root, c.Root[:]) || !bytes.Equal(res.Checkpoint, cp) || size < 283 {
		t.Fatalf("the export is of %d entries, root %x; the instance's checkpoint of %d, root %v", res.Size, res.Root, size, c.Root)
	}
	if vkey, _ := os.ReadFile(filepath.Join(out, "vkey")); strings.TrimSpace(string(vkey)) != in.VKey {
		t.Fatalf("vkey = %q", vkey)
	}
	// What the files hold, payloads decoded as a reader of the log would.
	var text strings.Builder
	filepath.Walk(out, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		text.Write(b)
		if entries, err := tlog.BundleEntries(b); err == nil && strings.Contains(path, "entries") {
			for _, e := range entries {
				var l struct{ Envelope struct{ Payload string } }
				json.Unmarshal(e, &l)
				p, _ := base64.StdEncoding.DecodeString(l.Envelope.Payload)
				text.Write(p)
			}
		}
		return nil
	})
	if strings.Contains(text.String(), "SEALED-NARRATIVE-7f3a") || !strings.Contains(text.String(), "CLEAR-NARRATIVE-91bc") {
		t.Fatal("the export holds the sealed narrative, or not the clear one: it is not read as the log is")
	}
	if ex2, err := ExportLog(ctx, in, out); err != nil || ex2.Written != 0 {
		t.Fatalf("a second export of the same log: %+v %v", ex2, err)
	}

	// The log grows; the mirror follows.
	for n := range 10 {
		env.Submit(t, env.Signers[testkit.MonitorID(3)].Sign(t, rules.KindAllegationFiled, testkit.Allegation("AF", 1000+n)))
	}
	env.WaitCheckpoint(t, env.Size())
	ex3, err := ExportLog(ctx, in, out)
	if err != nil || ex3.Size <= ex.Size || ex3.Written == 0 || ex3.Written >= ex3.Tiles {
		t.Fatalf("an export after growth: %+v %v", ex3, err)
	}
	if res, err := c2sp.VerifyStatic(ctx, mirror(t, out), in.Origin, in.VKey); err != nil || int64(res.Size) != ex3.Size {
		t.Fatalf("the grown mirror: %v", err)
	}

	old, err := instance.OpenStore(ctx, oldDir)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := ExportLog(ctx, old, out); truce.ErrorCode(err) != truce.CodeConflict || !strings.Contains(err.Error(), "roll the mirror back") {
		t.Fatalf("an export of an older copy over a newer mirror: %v", err)
	}
	other := testkit.New(t, instance.Options{})
	other.WaitCheckpoint(t, other.Size())
	otherIn, err := instance.OpenStore(ctx, other.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer otherIn.Close()
	if _, err := ExportLog(ctx, otherIn, out); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("an export of another log into the mirror: %v", err)
	}
	tile := filepath.Join(out, "tile", "0", "000")
	b, _ := os.ReadFile(tile)
	b[5] ^= 1
	os.WriteFile(tile, b, 0o644)
	if _, err := ExportLog(ctx, in, out); truce.ErrorCode(err) != truce.CodeConflict {
		t.Fatalf("an export into a mirror with a changed tile: %v", err)
	}
}
