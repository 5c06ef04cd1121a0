package entry

import (
	"strings"
	"testing"
)

// TestCanonicalDepth: values nested deeper than encoding/json reads
// (10000 arrays or objects) are refused. The token-by-token reading the
// one-pass check replaced accepted them (encoding/json's Decoder.Token
// does not bound the depth; json.Valid and Unmarshal do), so its fuzz
// target never meets them: the limit is pinned here.
func TestCanonicalDepth(t *testing.T) {
	nest := func(n int) []byte { return []byte(strings.Repeat(`{"a":`, n-1) + "[]" + strings.Repeat("}", n-1)) }
	if err := Canonical(nest(10000)); err != nil {
		t.Fatalf("nested 10000 deep: %v", err)
	}
	if err := Canonical(nest(10001)); err == nil {
		t.Fatal("nested 10001 deep, beyond what encoding/json reads: accepted")
	}
}
