package store

import (
	"slices"
	"strings"
	"testing"
)

// A query is its distinct words, at most MaxSearchWords: a query that
// repeats a word fifty times is one word to the index, and its syntax is
// nothing but separators.
func TestSearchWords(t *testing.T) {
	for q, want := range map[string][]string{
		strings.Repeat("the ", 50):        {"the"},
		`"mortar" OR shel* NEAR(x) -y ^z`: {"mortar", "or", "shel", "near", "x", "y", "z"},
		"a b c d e f g h i j k":           {"a", "b", "c", "d", "e", "f", "g", "h"},
		"گولہ باری، Kurram":               {"گولہ", "باری", "kurram"},
		`"*^-`:                            nil,
	} {
		if got := SearchWords(q); !slices.Equal(got, want) {
			t.Errorf("SearchWords(%.40q) = %q, want %q", q, got, want)
		}
	}
}
