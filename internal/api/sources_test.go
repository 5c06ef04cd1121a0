package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/claims"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// Sources come in through their route; discrepancies are listed within
// what the reader may see, filtered by story and kind; bad filters are
// named.
func TestDiscrepancies(t *testing.T) {
	f := newFixture(t)
	pub := testkit.Start.Add(-2 * time.Hour)
	for i, c := range []struct{ outlet, text string }{
		{"Khyber Courier", "[FICTIONAL] The talks in Istanbul ended with a monitoring deal. At least 23 Pakistani soldiers were killed in the clashes before the talks, the army said."},
		{"Kabul Ledger", "[FICTIONAL] The talks in Istanbul ended with a monitoring deal. According to the Afghan defence ministry, its forces killed 58 Pakistani soldiers before the talks."},
	} {
		body := truce.SourceIngestion{SHA256: fmt.Sprintf("%064x", i+1), MediaType: "text/html", Outlet: c.outlet, Title: "Talks end",
			Published: pub, Text: c.text, Claims: claims.Extract(c.text, pub)}
		b, _ := json.Marshal(map[string]any{"body": body})
		if code, resp, _ := f.do(t, "POST", "/api/v1/sources", f.tokens["analyst"], b, "Content-Type", "application/json"); code != http.StatusCreated {
			t.Fatalf("POST /api/v1/sources = %d %s", code, resp)
		}
	}
	// A source's record carries its text, read from the log; lists do not.
	_, body, _ := f.do(t, "GET", "/api/v1/sources/SRC-0002", f.tokens["analyst"], nil)
	var rec struct {
		Source map[string]any
		Text   string
	}
	json.Unmarshal(body, &rec)
	if !strings.Contains(rec.Text, "58 Pakistani soldiers") || rec.Source["text"] != nil || rec.Source["text_sha256"] == "" {
		t.Errorf("the source's record: %s", body)
	}
	if _, body, _ := f.do(t, "GET", "/api/v1/sources", f.tokens["analyst"], nil); strings.Contains(string(body), "ended with a monitoring deal") {
		t.Errorf("a list carries the texts: %.300s", body)
	}
	// A remote ingester finds a page read before by its hash.
	for query, want := range map[string]int{"?sha256=" + fmt.Sprintf("%064x", 1): 200, "?sha256=" + fmt.Sprintf("%064x", 9): 404, "": 400, "?url=http://x.example/a": 404} {
		if code, body, _ := f.do(t, "GET", "/api/v1/sources/lookup"+query, f.tokens["analyst"], nil); code != want {
			t.Errorf("lookup%s = %d %s, want %d", query, code, body, want)
		}
	}
	list := func(member, query string) (int, []map[string]any, []byte) {
		code, body, _ := f.do(t, "GET", "/api/v1/discrepancies"+query, f.tokens[member], nil)
		var out struct{ Items []map[string]any }
		json.Unmarshal(body, &out)
		return code, out.Items, body
	}
	if code, items, body := list("analyst", ""); code != 200 || len(items) != 1 || items[0]["story"] != "ST-0001" || items[0]["kind"] != truce.ClaimantsDisagree || items[0]["b"] == nil {
		t.Fatalf("discrepancies = %d %s", code, body)
	}
	if _, items, _ := list("analyst", "?story=ST-0001&kind="+truce.WeekdayMismatch); len(items) != 0 {
		t.Errorf("a kind filter let through %v", items)
	}
	// Stories are for members of the mechanism and the parties, not the press.
	if code, items, body := list("observer", ""); code != 200 || len(items) != 0 {
		t.Errorf("the observer sees %d %s", code, body)
	}
	if code, _, body := list("analyst", "?kind=rumour"); code != http.StatusBadRequest || errCode(t, body) != truce.CodeInvalid {
		t.Errorf("an unknown kind = %d %s", code, body)
	}
	if code, _, body := list("analyst", "?story=ST-0404"); code != http.StatusNotFound {
		t.Errorf("an unknown story = %d %s", code, body)
	}
	// The grade route is about the outlet in its path.
	b, _ := json.Marshal(map[string]any{"body": truce.OutletGrading{Outlet: "Kabul Ledger", Reliability: "C", Reason: "x"}})
	size := f.Size()
	if code, body, _ := f.do(t, "POST", "/api/v1/outlets/khyber-courier/grade", f.tokens["analyst"], b, "Content-Type", "application/json"); code != http.StatusBadRequest || f.Size() != size {
		t.Errorf("grading another outlet than the route's = %d %s", code, body)
	}
	if code, body, _ := f.do(t, "POST", "/api/v1/outlets/kabul-ledger/grade", f.tokens["analyst"], b, "Content-Type", "application/json"); code != http.StatusCreated {
		t.Errorf("grading the outlet = %d %s", code, body)
	}
}

// A source too large for an entry is refused by the rules with what to
// do about it, not by the log's leaf limit after the fact; nothing logged.
func TestSourceTooLarge(t *testing.T) {
	f := newFixture(t)
	sentence := "آئی ایس پی آر کے مطابق سرحد پر جھڑپوں میں 23 پاکستانی فوجی شہید ہوئے۔ "
	text := strings.Repeat(sentence, 2*rules.MaxSourceBody/len(sentence))
	pub := testkit.Start.Add(-time.Hour)
	body := truce.SourceIngestion{SHA256: fmt.Sprintf("%064x", 7), MediaType: "text/html", Outlet: "Inter-Services Public Relations", Title: "بیان",
		Published: pub, Text: text}
	b, _ := json.Marshal(map[string]any{"body": body})
	size := f.Size()
	code, resp, _ := f.do(t, "POST", "/api/v1/sources", f.tokens["analyst"], b, "Content-Type", "application/json")
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(resp), "clip the text") || f.Size() != size {
		t.Fatalf("POST a source of %d bytes = %d %.300s", len(b), code, resp)
	}
}
