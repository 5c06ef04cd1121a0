package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/receipt"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sitrep"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/tlog"
)

// TestReport: truce report --format pdf, from the served demo, gives a
// PDF whose pages render with the chart's bars in the parties' colours
// and the map's land; a mediator publishes the canonical JSON with
// --publish, and the report's receipt verifies offline and carries the
// SHA-256 of the file the mediator holds.
func TestReport(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	creds, err := demo.ReadCredentials(data)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]demo.Credential{}
	for _, c := range creds {
		byID[c.ID] = c
	}
	tr := byID["tr-mediator"]
	dir := t.TempDir()
	from := time.Now().UTC().Add(-30 * 24 * time.Hour).Format(time.DateOnly)
	report := func(who demo.Credential, format, out string, extra ...string) {
		t.Helper()
		args := append([]string{"report", "--server", s.url, "--token", who.Token, "--from", from, "--format", format, "--out", out}, extra...)
		if got, errOut, code := run(t, args...); code != 0 {
			t.Fatalf("truce report --format %s = %d %s %s", format, code, got, errOut)
		}
	}

	if _, errOut, code := run(t, "report", "--server", s.url, "--token", tr.Token, "--from", "last week"); code == 0 || !strings.Contains(errOut, "--from") {
		t.Fatalf("a bad --from = %d %s", code, errOut)
	}

	jsonFile, pdfFile := filepath.Join(dir, "report.json"), filepath.Join(dir, "report.pdf")
	report(tr, "json", jsonFile)
	report(tr, "pdf", pdfFile)
	var sit sitrep.Situation
	raw, _ := os.ReadFile(jsonFile)
	if err := json.Unmarshal(raw, &sit); err != nil || len(sit.New) == 0 || len(sit.Findings) == 0 {
		t.Fatalf("the demo's report has no allegations or findings: %v %s", err, raw)
	}
	pdf, _ := os.ReadFile(pdfFile)
	colours := testkit.Colours(testkit.RenderPDF(t, pdf))
	if len(colours) < 8 {
		t.Fatalf("the PDF renders blank: %d colours", len(colours))
	}
	want := map[string]string{"the map's land": sitrep.LandColour}
	for _, c := range sit.ByParty {
		if c.N > 0 {
			want[c.Key+"'s bars"] = sit.PartyColour(c.Key)
		}
	}
	for what, c := range want {
		if colours[c] < 20 {
			t.Errorf("%s (%s) are not drawn: %d pixels", what, c, colours[c])
		}
	}

	// A party may not publish; a mediator publishes the JSON it writes.
	pk := byID["pk-liaison"]
	if _, errOut, code := run(t, "report", "--server", s.url, "--token", pk.Token, "--key", pk.KeyFile, "--from", from, "--publish", "--for", "public", "--out", filepath.Join(dir, "pk.json")); code == 0 || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("a party publishing = %d %s", code, errOut)
	}
	published := filepath.Join(dir, "published.json")
	report(tr, "json", published, "--publish", "--for", "public", "--key", tr.KeyFile, "--title", "Monthly report")
	held, _ := os.ReadFile(published)
	sum := sha256.Sum256(held)

	vkey := strings.TrimSpace(string(get(t, s.url+"/log/vkey")))
	witnessKeys := checkCosigned(t, s.url, vkey)
	var out string
	for i := 0; ; i++ { // once a cosigned checkpoint covers the publication
		var code int
		if out, _, code = run(t, "receipt", "--server", s.url, "--token", byID["af-liaison"].Token, "report/SR-0001"); code == 0 {
			break
		}
		if i > 100 {
			t.Fatalf("no receipt of SR-0001: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	receiptFile := filepath.Join(dir, "receipt.json")
	os.WriteFile(receiptFile, []byte(out), 0o600)
	check := []string{"verify-receipt", receiptFile, "--log-key", vkey}
	for _, k := range witnessKeys {
		check = append(check, "--witness-key", k)
	}
	if got, errOut, code := run(t, check...); code != 0 || !strings.Contains(got, "ok: report SR-0001 rests on") {
		t.Fatalf("truce verify-receipt = %d %s %s", code, got, errOut)
	}
	// The logged entry, proven by the receipt, carries the held file's hash.
	r, _, err := receipt.Verify([]byte(out), vkey, witnessKeys, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ParseReceipt([]byte(r.Entries[0].Proof))
	if err != nil {
		t.Fatal(err)
	}
	_, e, err := entry.DecodeLeaf(p.Extra, p.Index)
	if err != nil {
		t.Fatal(err)
	}
	var body rules.ReportPublication
	json.Unmarshal(e.Payload.Body, &body)
	if e.Payload.Kind != rules.KindReportPublished || body.SHA256 != hex.EncodeToString(sum[:]) || body.Title != "Monthly report" {
		t.Fatalf("the logged publication %s %+v is not of the held report (%x)", e.Payload.Kind, body, sum)
	}
	if page := string(get(t, s.url+"/reports")); !strings.Contains(page, body.SHA256) {
		t.Fatal("the public reports page does not list the publication")
	}
	// From the data directory, as AF may see it: what only the mechanism
	// sees is in no byte of AF's page.
	local := func(who, format string) []byte {
		out, errOut, code := run(t, "report", "--data", data, "--for", who, "--from", from, "--format", format)
		if code != 0 {
			t.Fatalf("truce report --data --for %s = %d %s", who, code, errOut)
		}
		return []byte(out)
	}
	var mech, af sitrep.Situation
	json.Unmarshal(local("mechanism", "json"), &mech)
	json.Unmarshal(local("AF", "json"), &af)
	afPage := string(local("AF", "html"))
	hidden := 0
	for _, a := range mech.Open {
		if !strings.Contains(afPage, a.ID) {
			hidden++
		}
	}
	if hidden == 0 || len(af.Open)+hidden != len(mech.Open) || af.Audience != "AF" {
		t.Errorf("AF's report hides %d of the mechanism's %d open allegations (AF's lists %d)", hidden, len(mech.Open), len(af.Open))
	}

	// Replay derives the published report's record as the live server did.
	for _, verb := range []string{"verify", "replay"} {
		if got, errOut, code := run(t, verb, "--data", data); code != 0 || !strings.HasPrefix(got, "ok:") {
			t.Fatalf("%s after the publication = %d %s %s", verb, code, got, errOut)
		}
	}
}
