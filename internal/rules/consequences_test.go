package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
)

// decided files an allegation against a party at a day after t0, takes it
// through admission and a case, and puts finding p in effect.
func decided(w *world, day float64, against string, p truce.FindingProposal) truce.Finding {
	w.t.Helper()
	w.clock = t0.Add(time.Duration((1 + day) * 24 * float64(time.Hour))) // after the set-up entries
	filer := map[string]string{"AF": "pk", "PK": "af"}[against]
	al := w.must(filer, KindAllegationFiled, filing(against)).Ref.ID
	w.must("tr", KindAllegationAdmitted, truce.Admission{Allegation: al})
	p.Case = w.must("tr", KindCaseOpened, truce.CaseOpening{Allegation: al, Title: "Case"}).Ref.ID
	id := w.must("tr", KindFindingProposed, p).Ref.ID
	w.must("tr", KindFindingSigned, truce.FindingSignature{Finding: id, Concur: true})
	w.must("qa", KindFindingSigned, truce.FindingSignature{Finding: id, Concur: true})
	f, _ := w.s.Finding(id)
	return f
}

func viol(party, severity string) truce.FindingProposal {
	return truce.FindingProposal{Determination: truce.DeterminationViolation, Responsible: party, Clauses: []string{"no-fire"},
		Severity: severity, Confidence: "high", Reasoning: "Established."}
}

func nonParty(host, duty string) truce.FindingProposal {
	return truce.FindingProposal{Determination: truce.DeterminationNonParty, Group: "TTP", Responsible: host, HostResponsibility: duty,
		Clauses: []string{"no-fire"}, Severity: truce.SeveritySerious, Confidence: "medium", Reasoning: "Established."}
}

func other(det string) truce.FindingProposal {
	return truce.FindingProposal{Determination: det, Confidence: "low", Reasoning: "Not established."}
}

// Golden consequences: which rules of the agreement fire, for whom, for
// each finding of a history.
func TestConsequenceRules(t *testing.T) {
	type step struct {
		day     float64
		against string
		p       truce.FindingProposal
	}
	for _, c := range []struct {
		name    string
		history []step
		want    string // per finding: rule→target, ...
	}{
		{"a serious violation", []step{{0, "AF", viol("AF", truce.SeveritySerious)}},
			"[notice→AF]"},
		{"a grave violation", []step{{0, "PK", viol("PK", truce.SeverityGrave)}},
			"[notice→PK session→mediators]"},
		{"a third violation within 30 days", []step{{0, "PK", viol("PK", truce.SeverityMinor)}, {10, "PK", viol("PK", truce.SeverityMinor)}, {20, "PK", viol("PK", truce.SeverityMinor)}},
			"[notice→PK] [notice→PK] [notice→PK referral→guarantors]"},
		{"three violations over 40 days", []step{{0, "PK", viol("PK", truce.SeverityMinor)}, {20, "PK", viol("PK", truce.SeverityMinor)}, {40, "PK", viol("PK", truce.SeverityMinor)}},
			"[notice→PK] [notice→PK] [notice→PK]"},
		{"the other party's violations do not count", []step{{0, "PK", viol("PK", truce.SeverityMinor)}, {1, "AF", viol("AF", truce.SeverityMinor)}, {2, "PK", viol("PK", truce.SeverityMinor)}},
			"[notice→PK] [notice→AF] [notice→PK]"},
		{"an armed group the host failed to stop", []step{{0, "AF", nonParty("AF", truce.HostFailedToPrevent)}},
			"[territory→AF]"},
		{"an armed group from undetermined ground", []step{{0, "AF", nonParty("", truce.HostUndetermined)}},
			"[]"},
		{"host failures count towards the third", []step{{0, "AF", viol("AF", truce.SeverityMinor)}, {5, "AF", nonParty("AF", truce.HostFailedToPrevent)}, {6, "AF", viol("AF", truce.SeverityGrave)}},
			"[notice→AF] [territory→AF] [notice→AF session→mediators referral→guarantors]"},
		{"nothing follows no violation", []step{{0, "AF", other(truce.DeterminationNoViolation)}, {1, "PK", other(truce.DeterminationNotConfirmed)}},
			"[] []"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			var got []string
			for _, s := range c.history {
				f := decided(w, s.day, s.against, s.p)
				var qs []string
				for _, id := range f.Consequences {
					q, _ := w.s.Consequence(id)
					qs = append(qs, q.Rule+"→"+q.Target)
					if !q.Deadline.Due.After(*f.Effective) {
						t.Errorf("%s is due at %s, not after the finding", id, q.Deadline.Due)
					}
				}
				got = append(got, "["+strings.Join(qs, " ")+"]")
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Errorf("consequences %s, want %s", g, c.want)
			}
		})
	}
}

// A rule that fails to evaluate does not apply, and the finding says so.
func TestRuleErrors(t *testing.T) {
	w := newWorld(t)
	a := agreement()
	// Compiles (finding is a map of dyn), fails at run time on a missing key.
	a.Rules = append(a.Rules, truce.ConsequenceRule{ID: "broken", Title: "Broken", When: "finding.no_such_field == 'x'",
		Action: truce.ActionOther, Target: "mediators", Deadline: truce.Duration(time.Hour * 24)})
	w.must("pk", KindAmendmentProposed, truce.AmendmentProposal{Summary: "Add a broken rule.", Agreement: a})
	for _, by := range []string{"af", "tr", "qa"} {
		w.must(by, KindAmendmentSigned, truce.AmendmentSignature{Amendment: "AM-0001"})
	}
	f := decided(w, 1, "AF", viol("AF", truce.SeverityMinor))
	if len(f.Consequences) != 1 || len(f.RuleErrors) != 1 || !strings.Contains(f.RuleErrors[0], "broken") {
		t.Fatalf("consequences %v, rule errors %v", f.Consequences, f.RuleErrors)
	}

}

func TestAgreementRulesValidated(t *testing.T) {
	for _, c := range []struct {
		rule  truce.ConsequenceRule
		field string
	}{
		{truce.ConsequenceRule{ID: "r", Title: "R", When: "finding.severity ==", Action: truce.ActionOther, Target: "mediators", Deadline: truce.Duration(time.Hour)}, "rules[0].when"},
		{truce.ConsequenceRule{ID: "r", Title: "R", When: "finding.severity", Action: truce.ActionOther, Target: "mediators", Deadline: truce.Duration(time.Hour)}, "rules[0].when"},
		{truce.ConsequenceRule{ID: "r", Title: "R", When: "true", Action: "sanction", Target: "mediators", Deadline: truce.Duration(time.Hour)}, "rules[0].action"},
		{truce.ConsequenceRule{ID: "r", Title: "R", When: "true", Action: truce.ActionOther, Target: "everyone", Deadline: truce.Duration(time.Hour)}, "rules[0].target"},
		{truce.ConsequenceRule{ID: "r", Title: "R", When: "true", Action: truce.ActionOther, Target: "PK", Deadline: 0}, "rules[0].deadline"},
	} {
		a := agreement()
		a.Rules = []truce.ConsequenceRule{c.rule}
		err := ValidateAgreement(&a)
		var te *truce.Error
		if !asError(err, &te) || te.Field != c.field {
			t.Errorf("rule %+v: %v, want an error at %s", c.rule, err, c.field)
		}
	}
}
