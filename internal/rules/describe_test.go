package rules

import (
	"fmt"
	"strings"
	"testing"
)

var english = map[string]string{
	"cel.and": "%s and %s", "cel.or": "%s or %s", "cel.eq": "%s is %s", "cel.ne": "%s is not %s", "cel.lt": "%s is less than %s",
	"cel.le": "%s is at most %s", "cel.gt": "%s is after %s", "cel.ge": "%s is at least %s", "cel.in": "%s is one of %s",
	"cel.minus": "%s less %s", "cel.plus": "%s plus %s", "cel.not": "not (%s)", "cel.size": "the number of %s", "cel.days": "%d days",
	"cel.hours": "%g hours", "cel.where": "%s where %s", "cel.exists": "any of %s where %s", "cel.all": "all of %s where %s",
	"cel.list": "[%s]", "cel.true": "true", "cel.false": "false", "cel.this_finding": "this finding", "cel.history": "the findings in effect so far",
	"cel.each": "each", "cel.finding_field": "the finding's %s", "cel.its": "its %s", "cel.group": "(%s)",
}

func phrases() Phrases {
	return Phrases{
		Say: func(key string, args ...any) string {
			if f, ok := english[key]; ok {
				return fmt.Sprintf(f, args...)
			}
			if field, ok := strings.CutPrefix(key, "cel.field."); ok {
				return strings.ReplaceAll(field, "_", " ")
			}
			panic("no phrase " + key)
		},
		Value: func(v string) string { return "«" + v + "»" },
	}
}

func TestDescribe(t *testing.T) {
	for expr, want := range map[string]string{
		`finding.determination == 'violation'`: `the finding's determination is «violation»`,
		`finding.determination == 'non_party_violation' && finding.host_responsibility == 'failed_to_prevent'`:                                                                                 `the finding's determination is «non_party_violation» and the finding's host responsibility is «failed_to_prevent»`,
		`history.filter(f, f.responsible == finding.responsible && f.determination in ['violation', 'non_party_violation'] && f.effective > finding.effective - duration('720h')).size() >= 3`: `the number of the findings in effect so far where its responsible is the finding's responsible and its determination is one of [«violation», «non_party_violation»] and its effective is after the finding's effective less 30 days is at least 3`,
		`!(finding.severity == 'minor') || size(finding.clauses) > 1`:                                                                                                                          `not (the finding's severity is «minor») or the number of the finding's clauses is after 1`,
	} {
		got, err := Describe(expr, phrases())
		if err != nil || got != want {
			t.Errorf("Describe(%s)\n = %q, %v\nwant %q", expr, got, err, want)
		}
	}
	// What it has no words for, it does not pretend to say.
	for _, expr := range []string{`finding.clauses[0] == 'x'`, `has(finding.group)`, `matches(finding.id, 'FD')`, `finding.`} {
		if got, err := Describe(expr, phrases()); err == nil {
			t.Errorf("Describe(%s) = %q, want an error", expr, got)
		}
	}
	// Every key it asks for is listed, so the catalogues can hold each.
	for _, k := range DescribeKeys() {
		if _, ok := english[k]; !ok && !strings.HasPrefix(k, "cel.field.") {
			t.Errorf("listed key %s has no test phrase", k)
		}
	}
}

func FuzzDescribe(f *testing.F) {
	f.Add(`history.filter(f, f.responsible == finding.responsible).size() >= 3`)
	f.Add(`finding.severity == 'grave' || !finding.x`)
	f.Fuzz(func(t *testing.T, expr string) {
		Describe(expr, phrases()) // must not panic, whatever the agreement says
	})
}
