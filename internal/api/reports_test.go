package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/receipt"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/tlog"
)

const period = "/api/v1/reports/situation?from=2026-10-25&to=2026-10-27"

// A situation report holds only what its reader may see, in every
// format: a confidential allegation PK filed is in PK's and the
// mediators' reports and in no byte of AF's or the press observer's.
func TestSituationReport(t *testing.T) {
	f := newFixture(t)
	secret := testkit.Allegation("AF", 1)
	secret.Visibility = truce.Internal
	secret.Place.Admin1, secret.Place.Location = "Kurram", "Secretpost"
	hidden := f.Submit(t, f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, secret)).Record.ID
	shared := f.Submit(t, f.Signers["af-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("PK", 2))).Record.ID

	if code, body, _ := f.do(t, "GET", period, "", nil); code != 401 {
		t.Errorf("anonymous: %d %s", code, body)
	}
	for _, c := range []struct {
		who           string
		hidden, share bool
	}{
		{"tr-mediator", true, true}, {"pk-liaison", true, true}, {"af-liaison", false, true}, {"observer", false, false},
	} {
		for _, format := range []string{"json", "html", "pdf"} {
			code, body, hdr := f.do(t, "GET", period+"&format="+format, f.tokens[c.who], nil)
			if code != 200 {
				t.Fatalf("%s, %s: %d %s", c.who, format, code, body)
			}
			if format == "pdf" {
				if !strings.HasPrefix(hdr.Get("Content-Type"), "application/pdf") || !bytes.HasPrefix(body, []byte("%PDF-")) {
					t.Fatalf("%s's PDF is %s", c.who, hdr.Get("Content-Type"))
				}
				body = testkit.PDFContent(body)
			}
			for _, x := range []struct {
				id   string
				want bool
			}{{hidden, c.hidden}, {"Secretpost", c.hidden}, {shared, c.share}} {
				if got := bytes.Contains(body, []byte(x.id)); got != x.want {
					t.Errorf("%s's %s report has %s: %v, want %v", c.who, format, x.id, got, x.want)
				}
			}
		}
	}
	// A report narrowed to another audience shows only what it may see,
	// and never more than its maker sees.
	for _, c := range []struct {
		who, audience string
		code          int
		hidden, share bool
	}{
		{"tr-mediator", "AF", 200, false, true}, {"tr-mediator", "public", 200, false, false}, {"tr-mediator", "PK", 200, true, true},
		{"pk-liaison", "parties", 200, false, true}, {"pk-liaison", "AF", 403, false, false}, {"af-liaison", "mechanism", 403, false, false},
		{"observer", "parties", 403, false, false}, {"tr-mediator", "pk", 400, false, false}, {"tr-mediator", "<x>", 400, false, false},
	} {
		code, body, _ := f.do(t, "GET", period+"&audience="+url.QueryEscape(c.audience), f.tokens[c.who], nil)
		if code != c.code {
			t.Errorf("%s for %s = %d %s", c.who, c.audience, code, body)
			continue
		}
		if code == 200 && (bytes.Contains(body, []byte(hidden)) != c.hidden || bytes.Contains(body, []byte(shared)) != c.share) {
			t.Errorf("%s's report for %s: has %s %v, %s %v", c.who, c.audience, hidden, !c.hidden, shared, !c.share)
		}
	}
	var rep struct {
		AsOf     int64 `json:"as_of"`
		Audience string
		ByParty  []struct {
			Key string
			N   int
		} `json:"by_party"`
	}
	_, body, _ := f.do(t, "GET", period, f.tokens["af-liaison"], nil)
	if err := json.Unmarshal(body, &rep); err != nil || rep.Audience != "AF" || rep.AsOf == 0 {
		t.Fatalf("AF's report: %+v %v", rep, err)
	}
	for _, n := range rep.ByParty {
		if n.Key == "AF" && n.N != 0 || n.Key == "PK" && n.N != 1 {
			t.Errorf("AF's counts by party: %+v (PK's confidential filing counted?)", rep.ByParty)
		}
	}
	// Twice the same: the canonical rendering is deterministic.
	if _, again, _ := f.do(t, "GET", period, f.tokens["af-liaison"], nil); !bytes.Equal(body, again) {
		t.Error("the same report twice gave two renderings")
	}

	for _, c := range []struct{ query, field string }{
		{"from=yesterday", "from"}, {"to=2026-13-01", "to"}, {"from=2026-10-27&to=2026-10-25", "from"},
		{"from=2026-01-01&to=2026-10-25", "to"}, {"format=docx", "format"},
	} {
		code, body, _ := f.do(t, "GET", "/api/v1/reports/situation?"+c.query, f.tokens["tr-mediator"], nil)
		var e struct{ Error struct{ Code, Field string } }
		json.Unmarshal(body, &e)
		if code != 400 || e.Error.Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, code, body, c.field)
		}
	}
}

// A mediator publishes a report: its hash is logged as a public record
// whose receipt verifies and whose logged entry carries the hash of the
// bytes one holds. A party may not publish, and its refusal logs nothing.
func TestPublishReport(t *testing.T) {
	f := newFixture(t)
	f.Submit(t, f.Signers["af-liaison"].Sign(t, rules.KindAllegationFiled, testkit.Allegation("PK", 2)))
	_, report, _ := f.do(t, "GET", period, f.tokens["tr-mediator"], nil)
	sum := sha256.Sum256(report)
	pub := rules.ReportPublication{SHA256: hex.EncodeToString(sum[:]), Title: "Situation report",
		From: time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC)}

	size := f.Size()
	raw, _ := json.Marshal(f.Signers["pk-liaison"].Sign(t, rules.KindReportPublished, pub))
	if code, body, _ := f.do(t, "POST", "/api/v1/reports", f.tokens["pk-liaison"], raw, "Content-Type", "application/json"); code != 403 || f.Size() != size {
		t.Fatalf("a party publishing: %d %s, log %d → %d", code, body, size, f.Size())
	}
	raw, _ = json.Marshal(f.Signers["tr-mediator"].Sign(t, rules.KindReportPublished, pub))
	code, body, _ := f.do(t, "POST", "/api/v1/reports", f.tokens["tr-mediator"], raw, "Content-Type", "application/json")
	if code != 201 {
		t.Fatalf("a mediator publishing: %d %s", code, body)
	}
	var ack truce.Ack
	json.Unmarshal(body, &ack)
	if ack.Record.Type != rules.TypeReport || ack.Record.ID != "SR-0001" {
		t.Fatalf("published as %+v", ack.Record)
	}
	f.WaitCheckpoint(t, f.Size())
	// The press observer reads it and its receipt.
	code, rb, _ := f.do(t, "GET", "/api/v1/reports/SR-0001/receipt", f.tokens["observer"], nil)
	if code != 200 {
		t.Fatalf("the receipt: %d %s", code, rb)
	}
	r, checked, err := receipt.Verify(rb, f.In.VKey, nil, 0)
	if err != nil || checked.Entries[0].Kind != rules.KindReportPublished || checked.Entries[0].Author != "tr-mediator" {
		t.Fatalf("the receipt does not verify: %v %+v", err, checked)
	}
	p, err := tlog.ParseReceipt([]byte(r.Entries[0].Proof))
	if err != nil {
		t.Fatal(err)
	}
	_, logged, err := entry.DecodeLeaf(p.Extra, p.Index)
	if err != nil {
		t.Fatal(err)
	}
	var body2 rules.ReportPublication
	json.Unmarshal(logged.Payload.Body, &body2)
	if body2.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("the logged hash %s is not the report's", body2.SHA256)
	}
}
