package rules

import (
	"fmt"
	"sync"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/truce-mvm/truce"
)

// Consequence rules are CEL expressions over two variables:
//
//	finding  the finding taking effect: id, determination, responsible,
//	         group, host_responsibility, severity, confidence, clauses
//	         (list), category, filer, accused, effective (timestamp)
//	history  every finding in effect so far, this one last, each with the
//	         same fields
//
// For example, a third confirmed violation by the same party within 30
// days:
//
//	history.filter(f, f.responsible == finding.responsible &&
//	    f.determination == 'violation' &&
//	    f.effective > finding.effective - duration('720h')).size() >= 3
//
// What a rule may call is the CEL library of the rules version in force
// (see Version): libraries, by number.
var celLibraries = map[int]func() (*cel.Env, error){
	1: sync.OnceValues(func() (*cel.Env, error) {
		return cel.NewEnv(
			cel.Variable("finding", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("history", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
		)
	}),
}

type celProgram = cel.Program

// ruleCost bounds one rule's evaluation, so that no agreement can stall the
// sequencer.
const ruleCost = 1_000_000

// compileRule checks a rule's condition against a CEL library and returns
// its program.
func compileRule(library int, expr string) (cel.Program, error) {
	lib, ok := celLibraries[library]
	if !ok {
		return nil, fmt.Errorf("no CEL library %d", library)
	}
	env, err := lib()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("condition does not compile: %v", iss.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("condition is of type %v, not bool", ast.OutputType())
	}
	return env.Program(ast, cel.CostLimit(ruleCost))
}

// celFinding is the CEL view of a finding in effect.
func celFinding(f *truce.Finding, filer, accused string) map[string]any {
	clauses := append([]string{}, f.Clauses...)
	var effective time.Time
	if f.Effective != nil {
		effective = *f.Effective
	}
	return map[string]any{
		"id": f.ID, "determination": f.Determination, "responsible": f.Responsible, "group": f.Group,
		"host_responsibility": f.HostResponsibility, "severity": f.Severity, "confidence": f.Confidence,
		"clauses": clauses, "category": f.Category, "filer": filer, "accused": accused, "effective": effective,
	}
}

// consequencesOf evaluates the agreement's rules, in order, for a finding
// that has just taken effect.
func (s *State) consequencesOf(f *truce.Finding) []*truce.ConsequenceRule {
	vars := map[string]any{"finding": s.history[len(s.history)-1], "history": s.history}
	var out []*truce.ConsequenceRule
	for i := range s.Agreement.Rules {
		val, _, err := s.programs[i].Eval(vars)
		if err != nil {
			// A rule that cannot be evaluated does not apply; the finding
			// says so.
			f.RuleErrors = append(f.RuleErrors, fmt.Sprintf("%s: %v", s.Agreement.Rules[i].ID, err))
			continue
		}
		if b, ok := val.Value().(bool); ok && b {
			out = append(out, &s.Agreement.Rules[i])
		}
	}
	return out
}
