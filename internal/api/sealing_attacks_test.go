package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
	"github.com/truce-mvm/truce/internal/wire"
)

// openingsText is every opening content a member is served, as text.
func openingsText(t *testing.T, f *fixture, who string) string {
	t.Helper()
	code, body, _ := f.do(t, "GET", "/api/v1/openings?from=0", f.tokens[who], nil)
	if code != 200 {
		t.Fatalf("openings as %s = %d %s", who, code, body)
	}
	var page wire.Openings
	json.Unmarshal(body, &page)
	var b strings.Builder
	for _, o := range page.Items {
		b.Write(o.Content)
	}
	return b.String()
}

// pkInternalCase: PK files a report kept within the mechanism, TR admits
// it and opens a case on it (all sealed).
func pkInternalCase(t *testing.T, f *fixture) (al, cs string) {
	t.Helper()
	a := testkit.Allegation("AF", 1)
	a.Visibility = truce.Internal
	al = f.Submit(t, f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a)).Record.ID
	f.Submit(t, f.Signers["tr-mediator"].Sign(t, rules.KindAllegationAdmitted, truce.Admission{Allegation: al}))
	cs = f.Submit(t, f.Signers["tr-mediator"].Sign(t, rules.KindCaseOpened, truce.CaseOpening{Allegation: al, Title: "Mortar fire"})).Record.ID
	return al, cs
}

// the sealed field of evidence a mediator registers (a protected
// source's identity, "shown only to the mechanism and the party that owns
// the record") is served by /openings to PK, because the opening's Keeper
// is the first touched record kept within the mechanism — PK's case — not
// the evidence whose field it is. The record's own page (Doc) rightly
// withholds it from PK.
func TestFieldOpeningsFollowTheirRecord(t *testing.T) {
	f := newFixture(t)
	_, cs := pkInternalCase(t, f)
	sealed, field := sealedOpening(`{"source":"Informant Abdul Wali, Spin Boldak"}`)
	ev := truce.EvidenceRegistration{SHA256: strings.Repeat("cd", 32), MediaType: "image/jpeg", Size: 10,
		CapturedAt: testkit.Start.Add(-time.Hour), Description: "Photo of the impact site", Case: cs,
		Visibility: truce.Parties, Sealed: &sealed}
	env := f.Signers["tr-mediator"].Sign(t, rules.KindEvidenceRegistered, ev)
	ack, err := f.In.Seq.Submit(context.Background(), env, testkit.Opening(env), &field)
	if err != nil {
		t.Fatal(err)
	}
	_, doc, _ := f.do(t, "GET", "/api/v1/evidence/"+ack.Record.ID, f.tokens["pk-liaison"], nil)
	t.Logf("PK reads the evidence record: shows the source? %v", strings.Contains(string(doc), "Abdul Wali"))
	if strings.Contains(openingsText(t, f, "pk-liaison"), "Abdul Wali") {
		t.Errorf("PK is served the opening of the mediator's protected source on %s", ack.Record.ID)
	}
}

// source.linked to PK's report kept within the mechanism is
// sealed in the log, yet the link — relation and note — is part of the
// source record, which every party reads: AF reads the analyst's note.
func TestLinksToConfidentialRecordsStayOnThem(t *testing.T) {
	f := newFixture(t)
	text := "Shelling was reported near Torkham on Friday, officials said."
	src := f.Submit(t, f.Signers["analyst"].Sign(t, rules.KindSourceIngested, truce.SourceIngestion{
		SHA256: strings.Repeat("ef", 32), MediaType: "text/html", Outlet: "Khyber Courier", Title: "Shelling",
		Published: testkit.Start.Add(-2 * time.Hour), Text: text})).Record.ID
	a := testkit.Allegation("AF", 7)
	a.Visibility = truce.Internal
	al := f.Submit(t, f.Signers["pk-liaison"].Sign(t, rules.KindAllegationFiled, a)).Record.ID
	env := f.Signers["analyst"].Sign(t, rules.KindSourceLinked, truce.SourceLink{Source: src, Allegation: al, Relation: "corroborates",
		Note: "Matches the PK post commander's confidential account"})
	if testkit.Opening(env) == nil {
		t.Fatal("the link was not sealed")
	}
	f.Submit(t, env)
	if strings.Contains(logText(t, f), "confidential account") {
		t.Fatal("the note is in the log")
	}
	for _, who := range []string{"af-liaison"} {
		code, body, _ := f.do(t, "GET", "/api/v1/sources/"+src, f.tokens[who], nil)
		if code == 200 && strings.Contains(string(body), "confidential account") {
			t.Errorf("%s reads the sealed link's note (and that %s of %s exists) in source %s: %s", who, al, "PK", src, body)
		}
	}
}

// a report kept within the mechanism with a sealed
// witness list, filed with the custodial key (the pages' and API's
// {kind, body, sealed}), is refused: signSystem opens the sealed body with
// Decode(e, opening, nil), which then finds the body's sealed field
// without its opening.
func TestCustodialConfidentialReportWithSealedField(t *testing.T) {
	f := newFixture(t)
	a := testkit.Allegation("AF", 4)
	a.Visibility = truce.Internal
	body, _ := json.Marshal(a)
	req, _ := json.Marshal(map[string]any{"kind": rules.KindAllegationFiled, "body": json.RawMessage(body),
		"sealed": map[string]any{"content": json.RawMessage(`{"witnesses":["Zarina"]}`)}})
	code, resp, _ := f.do(t, "POST", "/api/v1/allegations", f.tokens["pk-liaison"], req, "Content-Type", "application/json")
	if code != 201 {
		t.Errorf("a custodial internal report with a sealed field = %d %s", code, resp)
	}
}
