package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/instance"
)

// Demo creates the exercise instance in a temporary directory and opens
// it with checkpoints as often as possible; it returns the instance, its
// directory and the demo's credentials by member.
func Demo(t testing.TB) (*instance.Instance, string, map[string]demo.Credential) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	creds, err := demo.Create(ctx, dir, time.Now(), instance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := instance.Open(ctx, dir, instance.Options{CheckpointInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	byID := map[string]demo.Credential{}
	for _, c := range creds {
		byID[c.ID] = c
	}
	return in, dir, byID
}
