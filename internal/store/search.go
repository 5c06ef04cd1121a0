package store

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"
)

// Searchable are the types of records search finds, and the fields of
// their documents it reads: what people write in them (narratives,
// replies, descriptions, reasoning, titles), never ids, hashes or keys.
var Searchable = []string{"allegation", "case", "task", "evidence", "finding", "consequence", "commitment", "source", "story"}

// textFields are the document fields, at any depth, whose text is
// searched.
var textFields = map[string]bool{"title": true, "narrative": true, "text": true, "description": true, "reasoning": true,
	"summary": true, "result": true, "note": true, "notes": true, "reason": true, "sentence": true, "place": true, "name": true,
	"outlet": true, "response": true, "explanation": true}

// SearchText is what a store indexes of a record for search: its title
// (the document's own, else the start of its text) and the text of its
// fields in document order. Every store indexes the same.
func SearchText(typ string, doc []byte) (title, body string, ok bool) {
	if !slices.Contains(Searchable, typ) {
		return "", "", false
	}
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return "", "", false
	}
	var parts []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(k, x[k])
			}
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case string:
			if textFields[key] && x != "" {
				parts = append(parts, x)
			}
		}
	}
	walk("", v)
	if m, _ := v.(map[string]any); m != nil {
		title, _ = m["title"].(string)
	}
	body = strings.Join(parts, "\n")
	if title == "" {
		title = firstWords(body, 12)
	}
	return title, body, true
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		return strings.Join(f[:n], " ") + " …"
	}
	return strings.Join(f, " ")
}

// SearchWords are the words of a search, letters and digits of any
// script, each once and at most MaxSearchWords of them: what a store
// matches, each word in full but the last, which may begin a word.
// Nothing of the query's own syntax reaches the index, and a query
// repeating a word does not make the index read it again.
func SearchWords(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\u200c' }) {
		if !slices.Contains(out, w) && len(out) < MaxSearchWords {
			out = append(out, w)
		}
	}
	return out
}

// MaxSearchWords bounds the words of one search.
const MaxSearchWords = 8

// Snippet is the words of a record's text around the first of a search's
// words it holds (the last word as a prefix), each match between « and »,
// about twenty words, cut in time that grows with the text, not with its
// matches.
func Snippet(body string, words []string) string {
	toks := strings.Fields(body)
	match := func(t string) bool {
		w := strings.ToLower(strings.TrimFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		for i, q := range words {
			if w == q || i == len(words)-1 && strings.HasPrefix(w, q) {
				return true
			}
		}
		return false
	}
	first := slices.IndexFunc(toks, match)
	if first < 0 {
		return firstWords(body, 20)
	}
	from, to := max(0, first-8), min(len(toks), first+12)
	out := make([]string, 0, to-from+2)
	if from > 0 {
		out = append(out, "…")
	}
	for _, t := range toks[from:to] {
		if match(t) {
			t = "«" + t + "»"
		}
		out = append(out, t)
	}
	if to < len(toks) {
		out = append(out, "…")
	}
	return strings.Join(out, " ")
}
