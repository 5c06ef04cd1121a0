package truce_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayout keeps the dependencies pointing one way (docs/architecture.md):
// the surfaces read and write only through the services, the auditor and
// the client share nothing with the server but its formats, and the domain
// imports no extraction code.
func TestLayout(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/truce-mvm/truce"
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[strings.TrimPrefix(f[0], mod)] = f[1:]
	}
	for _, rule := range []struct {
		pkg, not, why string
	}{
		{"/internal/api", "/internal/sequencer", "the API reads through internal/read and writes through internal/submit"},
		{"/internal/api", "/internal/store/sqlite", "the API knows no store implementation"},
		{"/internal/api", "/internal/store/postgres", "the API knows no store implementation"},
		{"/internal/web", "/internal/sequencer", "the pages read through internal/read and write through internal/submit"},
		{"/internal/web", "/internal/store", "the pages read through internal/read"},
		{"/internal/client", "/internal/sequencer", "a client shares only the API's formats with the server"},
		{"/internal/audit", "/internal/api", "the auditor shares only the formats with the server it checks"},
		{"/internal/audit", "/internal/read", "the auditor shares only the formats with the server it checks"},
		{"", "/internal/claims", "the domain imports no extraction code"},
		{"", "/internal/extract", "the domain imports no extraction code"},
		{"/internal/rules", "/internal/store", "the rules are pure: no I/O"},
		{"/internal/policy", "/internal/store", "the policy is a table, with no I/O"},
	} {
		got, ok := imports[rule.pkg]
		if !ok {
			t.Errorf("no package %q", mod+rule.pkg)
			continue
		}
		if slices.Contains(got, mod+rule.not) {
			t.Errorf("%s imports %s: %s", mod+rule.pkg, mod+rule.not, rule.why)
		}
	}
}
