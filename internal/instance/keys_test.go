package instance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mvm/truce/internal/custody"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/testkit/pgtest"
)

// TestKeysNotTheLogs: a process whose data directory holds a system key or
// a custody key that is not the instance's (keys copied from elsewhere to
// a standby, a directory left by a refused init) is refused when it opens
// the instance, before it sequences: with the wrong system key every
// system entry would be refused (deadlines never marked), and with the
// wrong custody key the custodial keys and webhook secrets it kept would
// open nowhere else.
func TestKeysNotTheLogs(t *testing.T) {
	ctx := context.Background()
	env := testkit.New(t, instance.Options{})
	env.In.Close()
	env.In = nil
	replace := func(name string, write func(path string) error) (restore func()) {
		path := filepath.Join(env.Dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		if err := write(path); err != nil {
			t.Fatal(err)
		}
		return func() { os.Remove(path); os.WriteFile(path, orig, 0o600) }
	}
	for _, tc := range []struct {
		name, file string
		write      func(string) error
	}{
		{"system key", instance.SystemKeyFile, func(path string) error {
			k, err := entry.GenerateKey("system")
			if err != nil {
				return err
			}
			return entry.WriteKeyFile(path, k)
		}},
		{"custody key", instance.CustodyKeyFile, custody.GenerateKeyFile},
	} {
		restore := replace(tc.file, tc.write)
		in, err := instance.Open(ctx, env.Dir, instance.Options{Clock: env.Clock.Now})
		if err == nil {
			in.Close()
			t.Errorf("an instance opened with a %s that is not the log's", tc.name)
		} else if !strings.Contains(err.Error(), tc.file) {
			t.Errorf("the refusal of a wrong %s does not name %s: %v", tc.name, tc.file, err)
		}
		restore()
	}
	in, err := instance.Open(ctx, env.Dir, instance.Options{Clock: env.Clock.Now})
	if err != nil {
		t.Fatalf("the instance's own keys: %v", err)
	}
	in.Close()
}

// TestInitRefusedLeavesNoKeys: init refused because its PostgreSQL
// database already holds an instance writes no keys in the new data
// directory, so that the same command with the right database then
// succeeds (it failed on the keys left behind), and no key of another
// instance lies there to be copied to a standby.
func TestInitRefusedLeavesNoKeys(t *testing.T) {
	ctx := context.Background()
	db := pgtest.URL(t)
	initInstance(t, t.TempDir(), db)
	dir := filepath.Join(t.TempDir(), "second")
	err := instance.Init(ctx, dir, instance.InitOptions{Origin: "truce.example.org/second", Agreement: testkit.DemoAgreement(t), DB: db})
	if err == nil || !strings.Contains(err.Error(), "already holds the instance") {
		t.Fatalf("init into a database holding an instance: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a refused init left %v in %s", ents, dir)
	}
	if err := instance.Init(ctx, dir, instance.InitOptions{Origin: "truce.example.org/second", Agreement: testkit.DemoAgreement(t), DB: pgtest.URL(t)}); err != nil {
		t.Fatalf("init again, into an empty database: %v", err)
	}
}
