package rules

import (
	"fmt"
	"testing"
)

// RV14: the agreement's rules in words must not say two different
// conditions the same way. "a && (b || c)" and "(a && b) || c" differ
// (a minor finding against PK: only the first is false), yet Describe
// renders both "A and B or C": a party reading the words cannot tell
// which consequence rule it agreed to.
func TestDescribeKeepsGrouping(t *testing.T) {
	p := Phrases{Say: func(key string, args ...any) string {
		switch key {
		case "cel.and":
			return fmt.Sprintf("%s and %s", args...)
		case "cel.or":
			return fmt.Sprintf("%s or %s", args...)
		case "cel.eq":
			return fmt.Sprintf("%s is %s", args...)
		case "cel.finding_field":
			return fmt.Sprintf("the finding's %s", args...)
		}
		return key
	}, Value: func(s string) string { return `"` + s + `"` }}
	x, err := Describe(`finding.severity == "serious" && (finding.responsible == "AF" || finding.responsible == "PK")`, p)
	if err != nil {
		t.Fatal(err)
	}
	y, err := Describe(`(finding.severity == "serious" && finding.responsible == "AF") || finding.responsible == "PK"`, p)
	if err != nil {
		t.Fatal(err)
	}
	if x == y {
		t.Fatalf("two different conditions read the same: %q", x)
	}
}
