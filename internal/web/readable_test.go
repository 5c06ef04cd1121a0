package web

import (
	"strings"
	"testing"
	"time"
)

// What a record says is escaped before ids become links: a narrative
// cannot write into the page.
func TestReadableEscapes(t *testing.T) {
	got := string(readable(languages[0], "", map[string]any{"note": `<script>alert(1)</script> see AL-0001 "x"`,
		"signed": "2026-11-02T09:00:00Z", "list": []any{map[string]any{"member": "<b>tr</b>", "concur": false, "mediator": "TR"}}, "killed": 0, "status": "in_effect",
		"x": map[string]any{"concur": false}}))
	for _, bad := range []string{"<script>", "<b>"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q reached the page: %s", bad, got)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&lt;b&gt;tr&lt;/b&gt; (Türkiye) dissents", "I concur: false", "killed: 0", "status: In effect", `<a href="/allegations/AL-0001">AL-0001</a>`, "<time datetime=", `<ul class="facts-list">`} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s: %s", want, got)
		}
	}
}

// The visit cookie comes from the browser: any value reads as a visit of
// its member or as none, and what was written reads back.
func FuzzReadVisit(f *testing.F) {
	f.Add("m=af-liaison&p=3&l=9&t=1700000000", "af-liaison")
	f.Add(writeVisit("af-liaison", 3, 9, time.Unix(1700000000, 0)), "af-liaison")
	f.Add("m=af-liaison&p=9&l=3&t=x", "af-liaison")
	f.Add("%zz", "")
	f.Fuzz(func(t *testing.T, value, member string) {
		prev, last, _, ok := readVisit(value, member)
		if ok && (prev < 0 || last < prev) {
			t.Fatalf("%q read as %d..%d", value, prev, last)
		}
		at := time.Unix(1700000000, 0)
		if p, l, a, ok := readVisit(writeVisit(member, 3, 9, at), member); !ok || p != 3 || l != 9 || !a.Equal(at) {
			t.Fatalf("written visit of %q reads back as %d %d %v %v", member, p, l, a, ok)
		}
	})
}
