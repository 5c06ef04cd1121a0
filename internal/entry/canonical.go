package entry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/truce-mvm/truce"
)

// MaxSafeInteger is the largest integer every JSON reader holds exactly
// (2^53, as an IEEE 754 double does): larger ones would mean one number
// to Go and another to a browser.
const MaxSafeInteger = 1 << 53

// Canonical checks that b is JSON with a single meaning to every reader —
// a strict subset of JSON, stated so that any implementation can check it:
//
//   - the bytes are valid UTF-8, and no string escapes half of a surrogate
//     pair (characters beyond the BMP are written as UTF-8);
//   - every object name is lowercase ASCII letters, digits and
//     underscores, and no name is given twice: readers that match names
//     exactly, those that ignore case (Go's encoding/json, with Unicode
//     folding: "ſ" is "s" to it) and any other then read the same fields;
//   - every number is written as ECMAScript (and Go's encoding/json) writes
//     it — the shortest form that reads back to the same double, no "-0",
//     no trailing zeros or exponents where none are needed — and integers
//     are within ±2^53;
//   - arrays and objects are nested at most 10000 deep (what Go's
//     encoding/json reads).
//
// Canonical does not require an order of names or a layout: signers keep
// their encoders; what one entry means cannot differ between readers.
func Canonical(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("not valid UTF-8")
	}
	if i := surrogateEscape(b); i >= 0 {
		return fmt.Errorf("a string escapes half of a surrogate pair at byte %d: write the character as UTF-8", i)
	}
	if !json.Valid(b) {
		// The decoder says what is wrong, and where.
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		return fmt.Errorf("not one JSON value")
	}
	// b is one valid JSON value: what is left to check is its names and
	// numbers, read in one pass over the bytes.
	type frame struct {
		object bool
		names  []string        // few per object: a scan beats a map…
		many   map[string]bool // …until there are many
	}
	var stack []frame
	name := false // the next string is an object's name
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '{' || c == '[':
			stack = append(stack, frame{object: c == '{'})
			name = c == '{'
			i++
		case c == '}' || c == ']':
			stack = stack[:len(stack)-1]
			name = false
			i++
		case c == ',':
			name = stack[len(stack)-1].object
			i++
		case c == '"':
			end := stringEnd(b, i)
			if name {
				n, err := nameOf(b[i:end])
				if err != nil {
					return err
				}
				top := &stack[len(stack)-1]
				if top.many[n] || slices.Contains(top.names, n) {
					return fmt.Errorf("the name %q is given twice in one object", n)
				}
				if top.many != nil {
					top.many[n] = true
				} else if top.names = append(top.names, n); len(top.names) > 16 {
					top.many = make(map[string]bool, 32)
					for _, n := range top.names {
						top.many[n] = true
					}
					top.names = nil
				}
				name = false
			}
			i = end
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(b) && strings.IndexByte("+-.eE0123456789", b[j]) >= 0 {
				j++
			}
			if err := canonicalNumber(string(b[i:j])); err != nil {
				return err
			}
			i = j
		default: // white space, ':', and the letters of true, false and null
			i++
		}
	}
	return nil
}

// stringEnd returns the offset just after the string that starts at
// b[i], in JSON known to be valid.
func stringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// nameOf reads a quoted object name and checks that it is plain.
func nameOf(q []byte) (string, error) {
	n := string(q[1 : len(q)-1])
	if bytes.IndexByte(q, '\\') >= 0 { // escaped: what it reads as
		if err := json.Unmarshal(q, &n); err != nil {
			return "", err
		}
	}
	if !plainName(n) {
		return "", fmt.Errorf("the name %q is not lowercase ASCII letters, digits and underscores", n)
	}
	return n, nil
}

// plainName reports whether a name is lowercase ASCII letters, digits and
// underscores.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// canonicalNumber checks that s is written as the shortest form of its
// value, an integer within ±2^53.
func canonicalNumber(s string) error {
	if s == "-0" {
		return fmt.Errorf("the number -0 is written 0")
	}
	if smallInteger(s) {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("the number %s is out of range", s)
	}
	if !strings.ContainsAny(s, ".eE") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > MaxSafeInteger || n < -MaxSafeInteger {
			return fmt.Errorf("the integer %s is beyond ±2^53, which not every reader holds exactly", s)
		}
	}
	want, err := json.Marshal(f)
	if err != nil || string(want) != s {
		return fmt.Errorf("the number %s is not in its shortest form (%s)", s, want)
	}
	return nil
}

// smallInteger reports whether s is an integer of at most 15 digits
// written without a leading zero: always its shortest form, and within
// ±2^53 (which has 16).
func smallInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 15 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// surrogateEscape returns the offset of a \u escape of a surrogate code
// point in b, or -1.
func surrogateEscape(b []byte) int {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // an escaped character: skip it, a backslash among them
			continue
		}
		if v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil && v >= 0xD800 && v <= 0xDFFF {
			return i
		}
	}
	return -1
}

// CheckCanonical checks that the entry's payload is canonical (Canonical),
// as a coded error naming the payload. The payload never changes, so the
// answer is worked out once and remembered.
func (e *Entry) CheckCanonical() error {
	if a := e.canonical.Load(); a != nil {
		return a.err
	}
	a := &canonicalAnswer{}
	if e.raw == nil {
		a.err = errors.New("the entry was not opened from an envelope")
	} else if err := Canonical(e.raw); err != nil {
		a.err = truce.FieldErrorf(truce.CodeInvalid, "payload", "%v: one signed entry must mean one thing to every reader", err)
	}
	e.canonical.Store(a)
	return a.err
}
