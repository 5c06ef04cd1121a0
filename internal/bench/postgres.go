package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// freshSchema makes a schema of its own for one run in the PostgreSQL
// database base names, and returns base with its search_path set to it,
// the server described (describe), and a function that drops the schema:
// every run starts from an empty log, and leaves nothing behind.
func freshSchema(ctx context.Context, base string) (db, server string, drop func(), err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "", nil, fmt.Errorf("database address: %w", err)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", "", nil, err
	}
	defer conn.Close(ctx)
	name := "truce_bench_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		return "", "", nil, fmt.Errorf("a schema for the run: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	drop = func() {
		// The run's context may be over: dropping must not depend on it.
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`)
			conn.Close(ctx)
		}
	}
	return u.String(), describe(ctx, conn), drop, nil
}

// describe names the server and the settings a durable commit depends
// on, so that a figure measured without them says so.
func describe(ctx context.Context, conn *pgx.Conn) string {
	var version, fsync, sync string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&version, &fsync, &sync); err != nil {
		return "postgresql (durability settings unknown: " + err.Error() + ")"
	}
	return fmt.Sprintf("postgresql %s (fsync %s, synchronous_commit %s)", version, fsync, sync)
}
