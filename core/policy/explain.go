package policy

import (
	"cmp"
	"context"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Explanation is a decision with the policy rules that produced it.
type Explanation struct {
	Decision Decision `json:"decision"`
	// Rules lists the rule bodies that succeeded while the decision was
	// evaluated, sorted by file and row. Rules whose bodies all failed are
	// left out, so each entry contributed to the result.
	Rules []RuleHit `json:"rules"`
}

// RuleHit is one rule body that succeeded.
type RuleHit struct {
	// Rule is the rule's full name, such as "data.healthhub.access.deny".
	Rule string `json:"rule"`
	File string `json:"file"`
	Row  int    `json:"row"`
	// Default is true for a default rule, which applies only when no
	// other body of the rule succeeded.
	Default bool `json:"default,omitempty"`
}

// Explain evaluates the decision for an input given as JSON, as DecideJSON
// does, and records which rules produced it. Tracing makes it much slower
// than Decide; it is for policy authors and the explain endpoint, not for
// the request path.
func (e *Engine) Explain(ctx context.Context, input []byte) (Explanation, error) {
	set := e.current.Load()
	value, err := parseInputJSON(input)
	if err != nil {
		d := set.finish(denyDecision(ReasonError, "the policy input does not match the decision contract"))
		return Explanation{Decision: d}, err
	}

	tracer := topdown.NewBufferTracer()
	d, err := set.decide(ctx, value, rego.EvalQueryTracer(tracer))
	return Explanation{Decision: d, Rules: ruleHits(*tracer)}, err
}

func ruleHits(events []*topdown.Event) []RuleHit {
	seen := map[RuleHit]bool{}
	var hits []RuleHit
	for _, ev := range events {
		if ev.Op != topdown.ExitOp {
			continue
		}
		rule, ok := ev.Node.(*ast.Rule)
		if !ok || rule.Location == nil || rule.Module == nil {
			continue
		}
		hit := RuleHit{
			Rule:    rule.Module.Package.Path.Extend(rule.Head.Ref().GroundPrefix()).String(),
			File:    rule.Location.File,
			Row:     rule.Location.Row,
			Default: rule.Default,
		}
		if !seen[hit] {
			seen[hit] = true
			hits = append(hits, hit)
		}
	}
	slices.SortFunc(hits, func(a, b RuleHit) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row))
	})
	return hits
}
