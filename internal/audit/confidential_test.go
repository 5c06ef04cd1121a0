package audit_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/tlog"
)

// The other party downloads every entry bundle of the demo's log and finds
// none of the mechanism's confidential work in it — no narrative or place
// of a report kept within the mechanism, no task, no custody note, no
// finding's reasoning or dissent — while a mediator's audit opens and
// checks every sealed entry, and the party's own audit says which entries
// it could not check.
func TestConfidentialWorkIsNotInTheLog(t *testing.T) {
	s := serveDemo(t)
	ctx := context.Background()
	af, mediator := s.creds["af-liaison"].Token, s.creds["tr-mediator"].Token
	get := func(token, path string) (int, []byte) {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	// Everything AF can read of the log: every leaf, payloads decoded.
	size := s.In.Seq.Snapshot().Size
	var logText strings.Builder
	sealedEntries := 0
	for n := int64(0); n*tlog.TileWidth < size; n++ {
		w := min(tlog.TileWidth, size-n*tlog.TileWidth)
		code, bundle := get(af, "/log/"+tlog.TilePath(tlog.Tile{H: tlog.TileHeight, L: -1, N: n, W: int(w)}))
		if code != 200 {
			t.Fatalf("entry bundle %d as AF = %d", n, code)
		}
		leaves, err := tlog.BundleEntries(bundle)
		if err != nil {
			t.Fatal(err)
		}
		for _, leaf := range leaves {
			logText.Write(leaf)
			var l struct{ Envelope struct{ Payload string } }
			json.Unmarshal(leaf, &l)
			p, _ := base64.StdEncoding.DecodeString(l.Envelope.Payload)
			logText.Write(p)
			if strings.Contains(string(p), `"sealed":{"commitment"`) {
				sealedEntries++
			}
		}
	}
	text := logText.String()

	// What AF reads through the API: texts found there too are shared
	// (names of members, places, groups), not the mechanism's.
	var shared strings.Builder
	for _, path := range []string{"/api/v1/allegations?limit=200", "/api/v1/cases?limit=200", "/api/v1/evidence?limit=200",
		"/api/v1/findings?limit=200", "/api/v1/members?limit=200", "/api/v1/sources?limit=200", "/api/v1/agreement"} {
		_, b := get(af, path)
		var v any
		json.Unmarshal(b, &v)
		plain, _ := json.Marshal(v)
		shared.Write(plain)
	}

	// What the mediator reads that AF may not: every text of those records.
	var secrets []string
	kinds := map[string]int{}
	for _, list := range []string{"allegations", "cases", "tasks", "evidence", "findings"} {
		code, b := get(mediator, "/api/v1/"+list+"?limit=200")
		if code != 200 {
			t.Fatalf("%s as the mediator = %d %s", list, code, b)
		}
		var page struct{ Items []map[string]any }
		json.Unmarshal(b, &page)
		for _, doc := range page.Items {
			id, _ := doc["id"].(string)
			if code, _ := get(af, "/api/v1/"+list+"/"+id); code != 404 {
				continue // AF sees it
			}
			var texts []string
			collect(doc, &texts)
			for _, x := range texts {
				if !strings.Contains(shared.String(), x) {
					secrets = append(secrets, x)
					kinds[list]++
				}
			}
		}
	}
	for _, list := range []string{"allegations", "tasks", "evidence", "findings"} {
		if kinds[list] == 0 {
			t.Fatalf("the demo has no confidential text in %s to look for (%v): the test proves nothing", list, kinds)
		}
	}
	t.Logf("%d confidential texts looked for (%v), e.g. %q", len(secrets), kinds, secrets[:min(4, len(secrets))])
	for _, secret := range secrets {
		if strings.Contains(text, secret) {
			t.Errorf("AF finds the mechanism's confidential %q in the log", secret)
		}
	}
	if sealedEntries == 0 {
		t.Fatal("the demo's log holds no sealed entry")
	}
	// Nor in the openings AF is served; the mediator is served them all.
	openings := func(token string) string {
		var all strings.Builder
		for from := int64(0); ; {
			code, b := get(token, fmt.Sprintf("/api/v1/openings?from=%d", from))
			if code != 200 {
				t.Fatalf("openings = %d %s", code, b)
			}
			var page struct {
				Items []struct{ Content []byte }
				Next  int64
			}
			json.Unmarshal(b, &page)
			for _, o := range page.Items {
				all.Write(o.Content)
			}
			if from = page.Next; from == 0 {
				return all.String()
			}
		}
	}
	afOpenings, medOpenings := openings(af), openings(mediator)
	for _, secret := range secrets {
		if strings.Contains(afOpenings, secret) {
			t.Errorf("AF is served the opening of the mechanism's %q", secret)
		}
	}
	if !strings.Contains(medOpenings, secrets[0]) {
		t.Errorf("the mediator is not served the opening of %q", secrets[0])
	}

	// The mediator's audit opens every sealed entry and checks it in full.
	med, err := audit.NewAuditor(ctx, audit.AuditorConfig{URL: s.URL, Token: mediator, Quorum: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer med.Close()
	r, err := med.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unchecked) != 0 || r.Sealed != int64(sealedEntries) || r.Uncompared != 0 {
		t.Fatalf("the mediator's audit: %d sealed entries checked of %d, unchecked %v, %d records not compared", r.Sealed, sealedEntries, r.Unchecked, r.Uncompared)
	}

	// AF's audit checks what it can and names what it cannot, finding
	// nothing wrong.
	other, err := audit.NewAuditor(ctx, audit.AuditorConfig{URL: s.URL, Token: af, Quorum: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	r, err = other.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unchecked) == 0 || r.Records == 0 {
		t.Fatalf("AF's audit: unchecked %v, %d records compared", r.Unchecked, r.Records)
	}
	for _, u := range r.Unchecked {
		if u.Why == "" || u.Kind == "" {
			t.Fatalf("an unchecked entry without a reason: %+v", u)
		}
	}
}

// collect gathers the texts of a document worth looking for: strings of
// at least 16 bytes that are not ids, times, hashes or keys.
func collect(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if k == "id" || k == "sealed" || strings.HasSuffix(k, "_at") {
				continue
			}
			collect(y, out)
		}
	case []any:
		for _, y := range x {
			collect(y, out)
		}
	case string:
		if len(x) >= 16 && strings.Contains(x, " ") {
			*out = append(*out, x)
		}
	}
}
