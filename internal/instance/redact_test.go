package instance

import (
	"strings"
	"testing"
)

// A database address is shown in errors without its password, wherever
// it is given.
func TestRedact(t *testing.T) {
	for _, db := range []string{"postgres://truce:s3cretpw@db:5432/truce", "mysql://u:s3cretpw@h/x?password=s3cretpw",
		"postgres://db/truce?sslmode=disable&password=s3cretpw", "postgress://u:s3cretpw@h", "%zz://u:s3cretpw@h"} {
		if got := redact(db); strings.Contains(got, "s3cretpw") {
			t.Errorf("redact(%q) = %q", db, got)
		}
	}
	if got := redact("postgres://truce@db/truce"); got != "postgres://truce@db/truce" {
		t.Errorf("an address without a password became %q", got)
	}
}
