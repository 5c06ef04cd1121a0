package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A published report is listed on a page anyone may read, with its hash
// and where its receipt is; a party's attempt to publish is refused.
func TestReportsPage(t *testing.T) {
	s := newSite(t)
	sha := strings.Repeat("5e", 32)
	publish := func(member string) int {
		now := time.Now().UTC()
		body, _ := json.Marshal(map[string]any{"kind": "report.published", "body": map[string]any{
			"sha256": sha, "title": "Weekly report", "from": now.Add(-7 * 24 * time.Hour), "to": now.Add(-time.Hour)}})
		req, _ := http.NewRequest("POST", s.url+"/api/v1/reports", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+s.creds[member].Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := publish("pk-liaison"); code != 403 {
		t.Fatalf("a party publishing: %d", code)
	}
	if _, page := get(t, s.browser(t), s.url+"/reports"); strings.Contains(page, sha) {
		t.Fatal("a refused publication is listed")
	}
	if code := publish("tr-mediator"); code != 201 {
		t.Fatalf("a mediator publishing: %d", code)
	}
	code, page := get(t, s.browser(t), s.url+"/reports") // anonymous
	for _, want := range []string{"Weekly report", sha, fmt.Sprintf(`href="/api/v1/reports/%s/receipt"`, "SR-0001")} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("the reports page (%d) lacks %s", code, want)
		}
	}
}
