// Package truce holds the domain of a ceasefire's joint monitoring and
// verification mechanism: the records the mechanism keeps (members,
// agreement, allegations), the coded errors every surface reports, and the
// query shapes every store answers. It does no I/O.
//
// The record itself is a signed, append-only Merkle log (see internal/tlog);
// everything in this package is either an entry body or a projection derived
// from the log by internal/rules.
package truce

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients. Each surface maps codes to its own
// statuses in exactly one place (internal/api for HTTP).
type Code string

// Error codes. Validation failures name the offending field in Error.Field.
const (
	CodeInvalid       Code = "invalid"        // malformed or out-of-range input
	CodeBadSignature  Code = "bad_signature"  // envelope signature does not verify
	CodeUnknownAuthor Code = "unknown_author" // author or key not registered
	CodeRevokedKey    Code = "revoked_key"    // key revoked before this entry
	CodeWrongOrigin   Code = "wrong_origin"   // entry signed for another log
	CodeReusedSeq     Code = "reused_seq"     // seq not above the author's last
	CodeUnknownClause Code = "unknown_clause" // clause not in the agreement
	CodeBadLocation   Code = "bad_location"   // coordinates off the globe
	CodeBadTime       Code = "bad_time"       // time in the future or absurd
	CodeTooLarge      Code = "too_large"      // body or leaf over its limit
	CodeMediaType     Code = "unsupported_media_type"
	CodeForbidden     Code = "forbidden"    // role may not do this
	CodeUnauthorized  Code = "unauthorized" // no or bad credentials
	CodeRateLimited   Code = "rate_limited" // too many requests; try later
	CodeNotFound      Code = "not_found"
	CodeConflict      Code = "conflict" // state does not allow this transition
	CodeUnavailable   Code = "unavailable"
	CodeNoSpace       Code = "insufficient_storage" // the server's disk is full; nothing was stored
	CodeInternal      Code = "internal"
)

// Error is a coded error with a message meant for the person who caused it.
type Error struct {
	Code    Code
	Field   string // JSON path of the offending field, if any
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns a coded error without a field.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns a coded error about one field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, CodeInternal for uncoded errors.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorField returns the field a coded error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the client-facing message of err. Uncoded errors are
// internal and their text is not shown.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}
