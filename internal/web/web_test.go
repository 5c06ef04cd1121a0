package web

import (
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
)

// Every catalogue has exactly English's keys, none empty, with the same
// number of arguments.
func TestCatalogues(t *testing.T) {
	en := languages[0]
	verbs := regexp.MustCompile(`%(\[\d\])?[dsv]`)
	for _, l := range languages[1:] {
		for k, m := range en.messages {
			got, ok := l.messages[k]
			switch {
			case !ok:
				t.Errorf("%s lacks %q", l.Tag, k)
			case strings.TrimSpace(got) == "":
				t.Errorf("%s: %q is empty", l.Tag, k)
			case len(verbs.FindAllString(got, -1)) != len(verbs.FindAllString(m, -1)):
				t.Errorf("%s: %q takes %d arguments, English %d", l.Tag, k, len(verbs.FindAllString(got, -1)), len(verbs.FindAllString(m, -1)))
			}
		}
		for k := range l.messages {
			if _, ok := en.messages[k]; !ok {
				t.Errorf("%s has %q, which English does not", l.Tag, k)
			}
		}
	}
	// The rules in words, every category and every status, in every language.
	keys := rules.DescribeKeys()
	for _, c := range truce.Categories {
		keys = append(keys, "category."+c.Slug)
	}
	for _, st := range []string{truce.AllegationFiled, truce.AllegationAdmitted, truce.AllegationRejected, truce.AllegationInCase, truce.AllegationDecided,
		truce.CaseOpen, truce.CaseClosed, truce.TaskAssigned, truce.TaskDone, truce.FindingProposed, truce.FindingInEffect, truce.FindingFailed,
		truce.ConsequenceOpen, truce.ConsequenceFulfilled, truce.ConsequenceWaived, truce.ConsequenceEscalated, truce.CommitmentOpen, truce.CommitmentDone} {
		keys = append(keys, "status."+st)
	}
	for _, k := range keys {
		if _, ok := en.messages[k]; !ok {
			t.Errorf("the catalogues lack %q", k)
		}
	}
}

// Every key the templates and the code name is in the catalogues; keys
// built from a prefix (status.%s, role.%s, ...) are checked for every value
// the domain gives them.
func TestKeysUsedExist(t *testing.T) {
	en := languages[0]
	literal := regexp.MustCompile(`\.T "([a-z_.-]*[a-z_])"|T\("([a-z_.-]*[a-z_])"|"((?:dash|due|status|role|party)\.[a-z_A-Z]+)"`)
	var sources []string
	fs.WalkDir(templateFiles, ".", func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			b, _ := templateFiles.ReadFile(p)
			sources = append(sources, string(b))
		}
		return nil
	})
	for _, f := range []string{"web.go", "dashboard.go", "i18n.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}
	n := 0
	for _, src := range sources {
		for _, m := range literal.FindAllStringSubmatch(src, -1) {
			key := m[1] + m[2] + m[3]
			n++
			if _, ok := en.messages[key]; !ok {
				t.Errorf("key %q is used but not in the catalogue", key)
			}
		}
	}
	if n < 50 {
		t.Fatalf("found only %d keys in use: the pattern is broken", n)
	}
	var dynamic []string
	for _, s := range []string{"filed", "admitted", "rejected", "in_case", "decided"} {
		dynamic = append(dynamic, "status."+s)
	}
	for _, r := range []string{"liaison", "mediator", "monitor", "analyst", "admin", "public", "system"} {
		dynamic = append(dynamic, "role."+r)
	}
	for _, d := range []string{rules.DueReply, rules.DueAdmission, rules.DueVerification, rules.DueTask, rules.DueConsequence, rules.DueCommitment} {
		dynamic = append(dynamic, "due."+d)
	}
	for _, a := range actions {
		dynamic = append(dynamic, "act."+a.name)
		for _, f := range fieldsOf(a.name, reflect.TypeOf(a.body), "") {
			dynamic = append(dynamic, f.Label)
			if f.Hint != "" {
				dynamic = append(dynamic, f.Hint)
			}
		}
	}
	for path, cs := range choices {
		if path == "category" {
			continue // shown by the taxonomy's names
		}
		for _, c := range cs {
			dynamic = append(dynamic, "choice."+c)
		}
	}
	for _, k := range rules.Kinds() {
		dynamic = append(dynamic, "kind."+k)
	}
	for _, k := range truce.DiscrepancyKinds {
		dynamic = append(dynamic, "discrepancy."+k)
	}
	for c := 1; c <= 6; c++ {
		dynamic = append(dynamic, fmt.Sprintf("credibility.%d", c))
	}
	dynamic = append(dynamic, "subject.duration", "subject.dates")
	for _, status := range []string{"killed", "wounded", "captured"} {
		dynamic = append(dynamic, "casualty."+status)
	}
	dynamic = append(dynamic, "act.register-evidence")
	for _, f := range evidenceFields {
		dynamic = append(dynamic, f.Label)
	}
	for typ := range recordActions {
		dynamic = append(dynamic, "type."+typ)
	}
	for _, c := range truce.Categories {
		dynamic = append(dynamic, "group."+eventGroup(c.Slug))
	}
	for _, k := range dynamic {
		if _, ok := en.messages[k]; !ok {
			t.Errorf("dynamic key %q is not in the catalogue", k)
		}
	}
}
