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

// A snippet is the words around the first match, matches marked, the last
// search word as a prefix.
func TestSnippet(t *testing.T) {
	body := strings.Repeat("calm day ", 20) + "Mortar shells struck the house in Parachinar at dusk, police said. " + strings.Repeat("later ", 20)
	got := Snippet(body, []string{"mortar", "parach"})
	for _, want := range []string{"«Mortar»", "«Parachinar»", "…"} {
		if !strings.Contains(got, want) {
			t.Errorf("snippet %q lacks %q", got, want)
		}
	}
	if n := len(strings.Fields(got)); n > 24 {
		t.Errorf("a snippet of %d words", n)
	}
}
