package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
)

// Phrases turn a consequence rule's condition into words: Say gives the
// phrase of a construct by its key (cel.and, cel.eq, cel.field.severity
// …, listed in describeKeys) filled with its parts, Value names a string
// the condition compares with (a determination, a severity).
type Phrases struct {
	Say   func(key string, args ...any) string
	Value func(string) string
}

// describeEnv parses conditions with the macros left as calls, so that
// history.filter(f, …) reads as what it says rather than as the loop it
// expands to.
var describeEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(cel.ClearMacros(),
		cel.Variable("finding", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("history", cel.ListType(cel.MapType(cel.StringType, cel.DynType))))
})

// errUnsaid is a construct without a phrase: the condition is then shown
// only as its CEL.
var errUnsaid = errors.New("no words for this construct")

// Describe says in words what a condition asks, for readers of the
// agreement who do not read CEL; the CEL stays beside it as what the
// rules run. It fails for a construct it has no phrase for.
func Describe(expr string, p Phrases) (string, error) {
	env, err := describeEnv()
	if err != nil {
		return "", err
	}
	ast, iss := env.Parse(expr)
	if iss.Err() != nil {
		return "", iss.Err()
	}
	d := describer{p: p, bound: map[string]bool{}}
	return d.say(ast.NativeRep().Expr())
}

type describer struct {
	p     Phrases
	bound map[string]bool // the variables of filter, exists and all
}

var binary = map[string]string{"_&&_": "cel.and", "_||_": "cel.or", "_==_": "cel.eq", "_!=_": "cel.ne", "_<_": "cel.lt",
	"_<=_": "cel.le", "_>_": "cel.gt", "_>=_": "cel.ge", "@in": "cel.in", "_-_": "cel.minus", "_+_": "cel.plus"}

// over are the list calls of a bound variable: filter, exists, all.
var over = map[string]string{"filter": "cel.where", "exists": "cel.exists", "all": "cel.all"}

func (d describer) say(e celast.Expr) (string, error) {
	switch e.Kind() {
	case celast.IdentKind:
		switch n := e.AsIdent(); {
		case n == "finding":
			return d.p.Say("cel.this_finding"), nil
		case n == "history":
			return d.p.Say("cel.history"), nil
		case d.bound[n]:
			return d.p.Say("cel.each"), nil
		}
	case celast.SelectKind:
		sel := e.AsSelect()
		if sel.Operand().Kind() != celast.IdentKind || sel.IsTestOnly() {
			break
		}
		field := d.p.Say("cel.field." + sel.FieldName())
		switch n := sel.Operand().AsIdent(); {
		case n == "finding":
			return d.p.Say("cel.finding_field", field), nil
		case d.bound[n]:
			return d.p.Say("cel.its", field), nil
		}
	case celast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.String:
			return d.p.Value(string(v)), nil
		case types.Int:
			return strconv.FormatInt(int64(v), 10), nil
		case types.Bool:
			return d.p.Say("cel." + strconv.FormatBool(bool(v))), nil
		}
	case celast.ListKind:
		var parts []string
		for _, x := range e.AsList().Elements() {
			s, err := d.say(x)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return d.p.Say("cel.list", strings.Join(parts, ", ")), nil
	case celast.CallKind:
		return d.call(e.AsCall())
	}
	return "", errUnsaid
}

func (d describer) call(c celast.CallExpr) (string, error) {
	args := c.Args()
	if c.IsMemberFunction() {
		args = append([]celast.Expr{c.Target()}, args...)
	}
	fn := c.FunctionName()
	switch {
	case binary[fn] != "" && len(args) == 2:
		var parts [2]string
		for i, x := range args {
			s, err := d.say(x)
			if err != nil {
				return "", err
			}
			// "a and (b or c)" is not "(a and b) or c": words keep the grouping.
			if x.Kind() == celast.CallKind && (fn == "_&&_" || fn == "_||_") {
				if inner := x.AsCall().FunctionName(); inner != fn && (inner == "_&&_" || inner == "_||_") {
					s = d.p.Say("cel.group", s)
				}
			}
			parts[i] = s
		}
		return d.p.Say(binary[fn], parts[0], parts[1]), nil
	case fn == "!_" && len(args) == 1:
		x, err := d.say(args[0])
		return d.p.Say("cel.not", x), err
	case fn == "size" && len(args) == 1:
		x, err := d.say(args[0])
		return d.p.Say("cel.size", x), err
	case fn == "duration" && len(args) == 1 && args[0].Kind() == celast.LiteralKind:
		s, ok := args[0].AsLiteral().(types.String)
		dur, err := time.ParseDuration(string(s))
		if !ok || err != nil {
			break
		}
		if dur%(24*time.Hour) == 0 {
			return d.p.Say("cel.days", int(dur/(24*time.Hour))), nil
		}
		return d.p.Say("cel.hours", dur.Hours()), nil
	case over[fn] != "" && c.IsMemberFunction() && len(args) == 3 && args[1].Kind() == celast.IdentKind:
		list, err := d.say(args[0])
		if err != nil {
			return "", err
		}
		inner := describer{p: d.p, bound: map[string]bool{args[1].AsIdent(): true}}
		cond, err := inner.say(args[2])
		if err != nil {
			return "", err
		}
		return d.p.Say(over[fn], list, cond), nil
	}
	return "", fmt.Errorf("%w: %s", errUnsaid, fn)
}

// describeKeys are the phrase keys Describe may ask for, besides
// cel.field.<name> for each field of a finding in CEL (celFields): the
// catalogues of the pages hold each.
var describeKeys = []string{"cel.and", "cel.or", "cel.eq", "cel.ne", "cel.lt", "cel.le", "cel.gt", "cel.ge", "cel.in", "cel.minus",
	"cel.plus", "cel.not", "cel.size", "cel.days", "cel.hours", "cel.where", "cel.exists", "cel.all", "cel.list", "cel.true", "cel.false",
	"cel.this_finding", "cel.history", "cel.each", "cel.finding_field", "cel.its", "cel.group"}

// celFields are the fields of a finding in CEL (celFinding).
var celFields = []string{"id", "determination", "responsible", "group", "host_responsibility", "severity", "confidence",
	"clauses", "category", "filer", "accused", "effective"}

// DescribeKeys lists every phrase key Describe may ask for.
func DescribeKeys() []string {
	out := append([]string{}, describeKeys...)
	for _, f := range celFields {
		out = append(out, "cel.field."+f)
	}
	return out
}
