package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The conversions below build the Rego input straight from the typed
// Input. ASTValue is what Decide uses: BenchmarkInputConversion measures it
// against building a map for rego.EvalInput, which OPA then converts.

// ASTValue converts the input to the Rego value the policies see. Raw JSON
// (payload and consents) is parsed with numbers kept exactly as written.
func (in *Input) ASTValue() (ast.Value, error) {
	resource, err := in.Resource.astTerm()
	if err != nil {
		return nil, err
	}
	context, err := in.Context.astTerm()
	if err != nil {
		return nil, err
	}
	items := [][2]*ast.Term{
		ast.Item(ast.StringTerm("subject"), in.Subject.astTerm()),
		ast.Item(ast.StringTerm("action"), ast.StringTerm(in.Action)),
		ast.Item(ast.StringTerm("resource"), resource),
		ast.Item(ast.StringTerm("context"), context),
	}
	if in.Provider != nil {
		items = append(items, ast.Item(ast.StringTerm("provider"), in.Provider.astTerm()))
	}
	return ast.NewObject(items...), nil
}

func (s *Subject) astTerm() *ast.Term {
	items := [][2]*ast.Term{
		stringItem("id", s.ID),
		ast.Item(ast.StringTerm("roles"), stringsTerm(s.Roles)),
		stringItem("tenant", s.Tenant),
	}
	if s.Scopes != nil {
		items = append(items, ast.Item(ast.StringTerm("scopes"), stringsTerm(s.Scopes)))
	}
	if s.PurposeOfUse != "" {
		items = append(items, stringItem("purpose_of_use", s.PurposeOfUse))
	}
	if s.Patient != "" {
		items = append(items, stringItem("patient", s.Patient))
	}
	if s.BreakGlass != nil {
		breakGlass := ast.ObjectTerm(
			stringItem("reason", s.BreakGlass.Reason),
			stringItem("started_at", formatTime(s.BreakGlass.StartedAt)),
		)
		items = append(items, ast.Item(ast.StringTerm("break_glass"), breakGlass))
	}
	return ast.ObjectTerm(items...)
}

func (r *Resource) astTerm() (*ast.Term, error) {
	items := [][2]*ast.Term{
		stringItem("type", r.Type),
		stringItem("tenant", r.Tenant),
	}
	if r.ID != "" {
		items = append(items, stringItem("id", r.ID))
	}
	if r.Patient != "" {
		items = append(items, stringItem("patient", r.Patient))
	}
	if len(r.SecurityLabels) > 0 {
		labels := make([]*ast.Term, len(r.SecurityLabels))
		for i, c := range r.SecurityLabels {
			labels[i] = c.astTerm()
		}
		items = append(items, ast.Item(ast.StringTerm("security_labels"), ast.ArrayTerm(labels...)))
	}
	if len(r.Payload) > 0 {
		payload, err := rawValue(r.Payload)
		if err != nil {
			return nil, fmt.Errorf("policy input: resource.payload: %w", err)
		}
		items = append(items, ast.Item(ast.StringTerm("payload"), ast.NewTerm(payload)))
	}
	return ast.ObjectTerm(items...), nil
}

func (c Coding) astTerm() *ast.Term {
	items := [][2]*ast.Term{stringItem("code", c.Code)}
	if c.System != "" {
		items = append(items, stringItem("system", c.System))
	}
	if c.Display != "" {
		items = append(items, stringItem("display", c.Display))
	}
	return ast.ObjectTerm(items...)
}

func (p *Provider) astTerm() *ast.Term {
	use := p.DataUse
	dataUse := []([2]*ast.Term){
		ast.Item(ast.StringTerm("egress"), ast.BooleanTerm(use.Egress)),
		ast.Item(ast.StringTerm("baa"), ast.BooleanTerm(use.BAA)),
		ast.Item(ast.StringTerm("retention_days"), ast.IntNumberTerm(use.RetentionDays)),
	}
	if len(use.Hosts) > 0 {
		dataUse = append(dataUse, ast.Item(ast.StringTerm("hosts"), stringsTerm(use.Hosts)))
	}
	if use.Region != "" {
		dataUse = append(dataUse, stringItem("region", use.Region))
	}
	return ast.ObjectTerm(
		stringItem("kind", string(p.Kind)),
		stringItem("name", p.Name),
		stringItem("version", p.Version),
		ast.Item(ast.StringTerm("data_use"), ast.ObjectTerm(dataUse...)),
	)
}

func (c *Context) astTerm() (*ast.Term, error) {
	var items [][2]*ast.Term
	if !c.Time.IsZero() {
		items = append(items, stringItem("time", formatTime(c.Time)))
	}
	if c.RequestID != "" {
		items = append(items, stringItem("request_id", c.RequestID))
	}
	if len(c.Consents) > 0 {
		consents := make([]*ast.Term, len(c.Consents))
		for i, raw := range c.Consents {
			v, err := rawValue(raw)
			if err != nil {
				return nil, fmt.Errorf("policy input: context.consents[%d]: %w", i, err)
			}
			consents[i] = ast.NewTerm(v)
		}
		items = append(items, ast.Item(ast.StringTerm("consents"), ast.ArrayTerm(consents...)))
	}
	return ast.ObjectTerm(items...), nil
}

func stringItem(key, value string) [2]*ast.Term {
	return ast.Item(ast.StringTerm(key), ast.StringTerm(value))
}

func stringsTerm(values []string) *ast.Term {
	terms := make([]*ast.Term, len(values))
	for i, v := range values {
		terms[i] = ast.StringTerm(v)
	}
	return ast.ArrayTerm(terms...)
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// rawValue parses JSON into a Rego value, keeping every number as written.
func rawValue(raw json.RawMessage) (ast.Value, error) {
	v, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}

// Map converts the input to the map form that rego.EvalInput takes, which
// OPA converts to a Rego value on every evaluation. It exists for the
// benchmark that compares it with ASTValue. Raw JSON is decoded with
// json.Number, so numbers keep their precision here too.
func (in *Input) Map() (map[string]any, error) {
	s := in.Subject
	subject := map[string]any{"id": s.ID, "roles": stringsAny(s.Roles), "tenant": s.Tenant}
	if s.Scopes != nil {
		subject["scopes"] = stringsAny(s.Scopes)
	}
	if s.PurposeOfUse != "" {
		subject["purpose_of_use"] = s.PurposeOfUse
	}
	if s.Patient != "" {
		subject["patient"] = s.Patient
	}
	if s.BreakGlass != nil {
		subject["break_glass"] = map[string]any{"reason": s.BreakGlass.Reason, "started_at": formatTime(s.BreakGlass.StartedAt)}
	}

	r := in.Resource
	resource := map[string]any{"type": r.Type, "tenant": r.Tenant}
	if r.ID != "" {
		resource["id"] = r.ID
	}
	if r.Patient != "" {
		resource["patient"] = r.Patient
	}
	if len(r.SecurityLabels) > 0 {
		labels := make([]any, len(r.SecurityLabels))
		for i, c := range r.SecurityLabels {
			labels[i] = map[string]any{"system": c.System, "code": c.Code}
		}
		resource["security_labels"] = labels
	}
	if len(r.Payload) > 0 {
		payload, err := decodeNumbers(r.Payload)
		if err != nil {
			return nil, fmt.Errorf("policy input: resource.payload: %w", err)
		}
		resource["payload"] = payload
	}

	context := map[string]any{}
	if !in.Context.Time.IsZero() {
		context["time"] = formatTime(in.Context.Time)
	}
	if in.Context.RequestID != "" {
		context["request_id"] = in.Context.RequestID
	}
	if len(in.Context.Consents) > 0 {
		consents := make([]any, len(in.Context.Consents))
		for i, raw := range in.Context.Consents {
			v, err := decodeNumbers(raw)
			if err != nil {
				return nil, fmt.Errorf("policy input: context.consents[%d]: %w", i, err)
			}
			consents[i] = v
		}
		context["consents"] = consents
	}

	m := map[string]any{"subject": subject, "action": in.Action, "resource": resource, "context": context}
	if p := in.Provider; p != nil {
		dataUse := map[string]any{"egress": p.DataUse.Egress, "baa": p.DataUse.BAA, "retention_days": p.DataUse.RetentionDays}
		if len(p.DataUse.Hosts) > 0 {
			dataUse["hosts"] = stringsAny(p.DataUse.Hosts)
		}
		if p.DataUse.Region != "" {
			dataUse["region"] = p.DataUse.Region
		}
		m["provider"] = map[string]any{"kind": string(p.Kind), "name": p.Name, "version": p.Version, "data_use": dataUse}
	}
	return m, nil
}

func stringsAny(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func decodeNumbers(raw json.RawMessage) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}
