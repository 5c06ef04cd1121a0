package web

import (
	"strings"
	"testing"
)

// What a record says is escaped before ids become links: a narrative
// cannot write into the page.
func TestReadableEscapes(t *testing.T) {
	got := string(readable(languages[0], map[string]any{"note": `<script>alert(1)</script> see AL-0001 "x"`,
		"signed": "2026-11-02T09:00:00Z", "list": []any{map[string]any{"member": "<b>tr</b>", "concur": false}}, "killed": 0}))
	for _, bad := range []string{"<script>", "<b>"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q reached the page: %s", bad, got)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "concur: false", "killed: 0", `<a href="/allegations/AL-0001">AL-0001</a>`, "<time datetime=", `<ul class="facts-list">`} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s: %s", want, got)
		}
	}
}
