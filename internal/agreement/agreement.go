// Package agreement reads the agreement file: the ceasefire agreement in
// YAML, written and reviewed by people, adopted into the log as a signed
// entry. Every error names the line it is about.
package agreement

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
)

// MaxSize is the largest agreement file accepted.
const MaxSize = 1 << 20

// Error is a problem at a line of the file.
type Error struct {
	Line   int // 0 when the problem is not at one place
	Reason string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

var linePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads and validates an agreement file.
func Parse(data []byte) (*truce.Agreement, error) {
	if len(data) > MaxSize {
		return nil, &Error{Reason: fmt.Sprintf("the file is %d bytes, the limit is %d", len(data), MaxSize)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{Reason: "the file is empty"}
	}
	var a truce.Agreement
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		// Values that fail their own parser carry no line: find them.
		var ve *truce.ValueError
		if errors.As(err, &ve) {
			return nil, &Error{Line: findScalar(&root, ve.Value), Reason: ve.Reason}
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Line: findScalar(&root, pe.Value), Reason: fmt.Sprintf("bad time %q: use e.g. 2026-10-19T00:00:00Z", pe.Value)}
		}
		return nil, yamlError(err)
	}
	if err := rules.ValidateAgreement(&a); err != nil {
		var te *truce.Error
		if errors.As(err, &te) {
			return nil, &Error{Line: lineOf(root.Content[0], te.Field), Reason: te.Error()}
		}
		return nil, err
	}
	return &a, nil
}

// yamlError turns a yaml error into one with a line, keeping the first
// problem when there are several.
func yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := linePrefix.FindStringSubmatch(strings.TrimSpace(msg)); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Line: line, Reason: m[2]}
	}
	return &Error{Reason: strings.TrimPrefix(msg, "yaml: ")}
}

// lineOf finds the line of a field path such as "clauses[2].categories[0]",
// or of the deepest part of it that exists.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := mapValue(n, name)
		if next == nil {
			return line
		}
		n, line = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n, line = n.Content[idx], n.Content[idx].Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// findScalar returns the line of the first scalar with the given value.
func findScalar(n *yaml.Node, value string) int {
	if n.Kind == yaml.ScalarNode && n.Value == value {
		return n.Line
	}
	for _, c := range n.Content {
		if l := findScalar(c, value); l > 0 {
			return l
		}
	}
	return 0
}
