package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
)

// ValidateAgreement checks an agreement on its own, its consequence rules
// against the CEL library of the latest rules version. Errors name the
// field by its path in the agreement file (e.g. "clauses[2].categories[0]").
func ValidateAgreement(a *truce.Agreement) error {
	return validateAgreement(a, versions[LatestVersion].CEL)
}

// validateAgreement checks an agreement; its rules compile against CEL
// library cel if it is not 0. An entry's body is checked without (on its
// own, the version in force unknown), and its rules compiled when it is
// applied, against the library of the version in force then.
func validateAgreement(a *truce.Agreement, cel int) error {
	if err := text("title", a.Title, 300, true); err != nil {
		return err
	}
	if a.Effective.IsZero() || a.Effective.Year() < 2000 {
		return truce.FieldErrorf(truce.CodeInvalid, "effective", "is required: the date the ceasefire took effect")
	}
	if len(a.Parties) != 2 {
		return truce.FieldErrorf(truce.CodeInvalid, "parties", "a ceasefire has two parties, this lists %d", len(a.Parties))
	}
	if len(a.Mediators) == 0 {
		return truce.FieldErrorf(truce.CodeInvalid, "mediators", "at least one mediator is required")
	}
	codes := map[string]string{truce.Mechanism: "reserved for the mechanism"}
	for _, g := range []struct {
		name   string
		actors []truce.Actor
	}{{"parties", a.Parties}, {"mediators", a.Mediators}, {"guarantors", a.Guarantors}} {
		for i, act := range g.actors {
			f := fmt.Sprintf("%s[%d]", g.name, i)
			if !codePattern.MatchString(act.Code) {
				return truce.FieldErrorf(truce.CodeInvalid, f+".code", "must be 2-8 capital letters, e.g. PK")
			}
			if prev, dup := codes[act.Code]; dup {
				return truce.FieldErrorf(truce.CodeInvalid, f+".code", "%s is already used (%s)", act.Code, prev)
			}
			codes[act.Code] = f
			if err := text(f+".name", act.Name, 200, true); err != nil {
				return err
			}
		}
	}
	if len(a.Clauses) == 0 {
		return truce.FieldErrorf(truce.CodeInvalid, "clauses", "at least one clause is required")
	}
	ids := map[string]bool{}
	for i, c := range a.Clauses {
		f := fmt.Sprintf("clauses[%d]", i)
		if !idPattern.MatchString(c.ID) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".id", "must be 1-64 lowercase letters, digits and dashes")
		}
		if ids[c.ID] {
			return truce.FieldErrorf(truce.CodeInvalid, f+".id", "clause %q is defined twice", c.ID)
		}
		ids[c.ID] = true
		if err := text(f+".title", c.Title, 300, true); err != nil {
			return err
		}
		if err := text(f+".text", c.Text, 5000, true); err != nil {
			return err
		}
		if len(c.Categories) == 0 {
			return truce.FieldErrorf(truce.CodeInvalid, f+".categories", "list the event categories the clause covers")
		}
		for j, cat := range c.Categories {
			if _, ok := truce.CategoryBySlug(cat); !ok {
				return truce.FieldErrorf(truce.CodeInvalid, fmt.Sprintf("%s.categories[%d]", f, j), "unknown event category %q", cat)
			}
		}
	}
	for _, d := range []struct {
		name string
		v    truce.Duration
	}{{"reply", a.Deadlines.Reply}, {"admission", a.Deadlines.Admission}, {"verification", a.Deadlines.Verification}} {
		if time.Duration(d.v) < time.Hour || time.Duration(d.v) > 365*24*time.Hour {
			return truce.FieldErrorf(truce.CodeInvalid, "deadlines."+d.name, "must be between 1h and 365d")
		}
	}
	if s := time.Duration(a.Deadlines.Signing); s != 0 && (s < time.Hour || s > 90*24*time.Hour) {
		return truce.FieldErrorf(truce.CodeInvalid, "deadlines.signing", "must be between 1h and 90d, or left out for %s", time.Duration(truce.DefaultSigningWindow))
	}
	if a.Quorum < 1 || a.Quorum > len(a.Mediators) {
		return truce.FieldErrorf(truce.CodeInvalid, "quorum", "must be between 1 and the number of mediators (%d)", len(a.Mediators))
	}
	if err := validateRules(a, codes, cel); err != nil {
		return err
	}
	return validateTalks(a, codes)
}

var actions = []string{truce.ActionFormalNotice, truce.ActionEmergencySession, truce.ActionReferral, truce.ActionInvestigation, truce.ActionOther}

func validateRules(a *truce.Agreement, codes map[string]string, cel int) error {
	ids := map[string]bool{}
	for i, r := range a.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if !idPattern.MatchString(r.ID) || ids[r.ID] {
			return truce.FieldErrorf(truce.CodeInvalid, f+".id", "must be a new id of lowercase letters, digits and dashes")
		}
		ids[r.ID] = true
		if err := text(f+".title", r.Title, 300, true); err != nil {
			return err
		}
		if err := text(f+".text", r.Text, 5000, false); err != nil {
			return err
		}
		if cel != 0 {
			if _, err := compileRule(cel, r.When); err != nil {
				return truce.FieldErrorf(truce.CodeInvalid, f+".when", "%v", err)
			}
		}
		if !slices.Contains(actions, r.Action) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".action", "must be one of %v", actions)
		}
		if _, isCode := codes[r.Target]; !slices.Contains([]string{TargetResponsible, TargetMediators, TargetGuarantors}, r.Target) && (!isCode || r.Target == truce.Mechanism) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".target", "must be responsible, mediators, guarantors or a party code")
		}
		if time.Duration(r.Deadline) < time.Hour || time.Duration(r.Deadline) > 365*24*time.Hour {
			return truce.FieldErrorf(truce.CodeInvalid, f+".deadline", "must be between 1h and 365d")
		}
	}
	return nil
}

func validateTalks(a *truce.Agreement, codes map[string]string) error {
	rounds, commitments := map[string]bool{}, map[string]bool{}
	for i, r := range a.Talks {
		f := fmt.Sprintf("talks[%d]", i)
		if !idPattern.MatchString(r.ID) || rounds[r.ID] {
			return truce.FieldErrorf(truce.CodeInvalid, f+".id", "must be a new id of lowercase letters, digits and dashes")
		}
		rounds[r.ID] = true
		if err := text(f+".name", r.Name, 300, true); err != nil {
			return err
		}
		if err := text(f+".place", r.Place, 200, true); err != nil {
			return err
		}
		if r.From.IsZero() || r.To.Before(r.From) {
			return truce.FieldErrorf(truce.CodeInvalid, f+".to", "a round runs from one date to the same or a later one")
		}
		for j, c := range r.Commitments {
			cf := fmt.Sprintf("%s.commitments[%d]", f, j)
			if !idPattern.MatchString(c.ID) || commitments[c.ID] {
				return truce.FieldErrorf(truce.CodeInvalid, cf+".id", "must be a new id of lowercase letters, digits and dashes")
			}
			commitments[c.ID] = true
			if err := text(cf+".text", c.Text, 2000, true); err != nil {
				return err
			}
			if _, ok := codes[c.Owner]; !ok {
				return truce.FieldErrorf(truce.CodeInvalid, cf+".owner", "%q is not a party, mediator, guarantor or %s", c.Owner, truce.Mechanism)
			}
			if c.Due.IsZero() {
				return truce.FieldErrorf(truce.CodeInvalid, cf+".due", "is required")
			}
		}
	}
	return nil
}

// validateAgreementBody checks an entry's agreement on its own.
func validateAgreementBody(a *truce.Agreement) error {
	return prefixField("body.", validateAgreement(a, 0))
}
