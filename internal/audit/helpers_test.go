package audit_test

import (
	"errors"
	"strconv"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/audit"
)

func noteVerifier(vkey string) (note.Verifier, error) { return note.NewVerifier(vkey) }

func asProblem(err error, p **audit.Problem) bool { return errors.As(err, p) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
