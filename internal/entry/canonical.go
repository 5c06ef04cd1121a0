package entry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
//     are within ±2^53.
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
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		object bool
		key    bool // the next token of an object is a name
		names  map[string]string
	}
	var stack []*frame
	values := 0 // complete top-level values
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(stack) == 0 {
			if values++; values > 1 {
				return fmt.Errorf("more than one JSON value")
			}
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if delim, ok := tok.(json.Delim); ok && delim == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name := tok.(string)
			if !plainName(name) {
				return fmt.Errorf("the name %q is not lowercase ASCII letters, digits and underscores", name)
			}
			if _, ok := top.names[name]; ok {
				return fmt.Errorf("the name %q is given twice in one object", name)
			}
			top.names[name] = name
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // after this value, a name or the end
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, key: true, names: map[string]string{}})
			case '[':
				stack = append(stack, &frame{})
			default: // ']'
				stack = stack[:len(stack)-1]
			}
		case json.Number:
			if err := canonicalNumber(string(t)); err != nil {
				return err
			}
		}
	}
	if values != 1 || len(stack) != 0 {
		return fmt.Errorf("not one complete JSON value")
	}
	return nil
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
