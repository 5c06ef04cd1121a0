// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database TRUCE_TEST_POSTGRES names (.ci/run starts a
// throwaway cluster and sets it). Without it tests skip, except in CI,
// where they must run.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Base is the database TRUCE_TEST_POSTGRES names; without it the test
// skips, or fails in CI.
func Base(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TRUCE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TRUCE_TEST_POSTGRES is not set: CI must run the PostgreSQL tests against a real server")
		}
		t.Skip("TRUCE_TEST_POSTGRES is not set (a postgres:// URL of a database the tests may create schemas in): skipping a PostgreSQL test")
	}
	return u
}

// URL is Schema of Base.
func URL(t testing.TB) string {
	t.Helper()
	return Schema(t, Base(t))
}

// Schema creates a schema of its own for one test in the database at
// base, dropped when the test ends, and returns base's URL with its
// search_path set to it: each store a test opens starts empty.
func Schema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to TRUCE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := "truce_test_" + strings.ToLower(rand.Text()[:16])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
