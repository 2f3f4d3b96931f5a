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

// Object keys of the input document. They are built once and shared by
// every input, since OPA never changes a term of its input.
var (
	keySubject        = ast.StringTerm("subject")
	keyAction         = ast.StringTerm("action")
	keyResource       = ast.StringTerm("resource")
	keyContext        = ast.StringTerm("context")
	keyProvider       = ast.StringTerm("provider")
	keyID             = ast.StringTerm("id")
	keyRoles          = ast.StringTerm("roles")
	keyTenant         = ast.StringTerm("tenant")
	keyScopes         = ast.StringTerm("scopes")
	keyPurposeOfUse   = ast.StringTerm("purpose_of_use")
	keyPatient        = ast.StringTerm("patient")
	keyBreakGlass     = ast.StringTerm("break_glass")
	keyReason         = ast.StringTerm("reason")
	keyStartedAt      = ast.StringTerm("started_at")
	keyType           = ast.StringTerm("type")
	keySecurityLabels = ast.StringTerm("security_labels")
	keyPayload        = ast.StringTerm("payload")
	keySystem         = ast.StringTerm("system")
	keyCode           = ast.StringTerm("code")
	keyDisplay        = ast.StringTerm("display")
	keyKind           = ast.StringTerm("kind")
	keyName           = ast.StringTerm("name")
	keyVersion        = ast.StringTerm("version")
	keyDataUse        = ast.StringTerm("data_use")
	keyEgress         = ast.StringTerm("egress")
	keyBAA            = ast.StringTerm("baa")
	keyRetentionDays  = ast.StringTerm("retention_days")
	keyHosts          = ast.StringTerm("hosts")
	keyRegion         = ast.StringTerm("region")
	keyTime           = ast.StringTerm("time")
	keyRequestID      = ast.StringTerm("request_id")
	keyConsents       = ast.StringTerm("consents")
)

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
	items := make([][2]*ast.Term, 4, 5)
	items[0] = ast.Item(keySubject, in.Subject.astTerm())
	items[1] = ast.Item(keyAction, ast.StringTerm(in.Action))
	items[2] = ast.Item(keyResource, resource)
	items[3] = ast.Item(keyContext, context)
	if in.Provider != nil {
		items = append(items, ast.Item(keyProvider, in.Provider.astTerm()))
	}
	return ast.NewObject(items...), nil
}

func (s *Subject) astTerm() *ast.Term {
	items := make([][2]*ast.Term, 3, 7)
	items[0] = stringItem(keyID, s.ID)
	items[1] = ast.Item(keyRoles, stringsTerm(s.Roles))
	items[2] = stringItem(keyTenant, s.Tenant)
	if s.Scopes != nil {
		items = append(items, ast.Item(keyScopes, stringsTerm(s.Scopes)))
	}
	if s.PurposeOfUse != "" {
		items = append(items, stringItem(keyPurposeOfUse, s.PurposeOfUse))
	}
	if s.Patient != "" {
		items = append(items, stringItem(keyPatient, s.Patient))
	}
	if s.BreakGlass != nil {
		breakGlass := ast.ObjectTerm(
			stringItem(keyReason, s.BreakGlass.Reason),
			stringItem(keyStartedAt, formatTime(s.BreakGlass.StartedAt)),
		)
		items = append(items, ast.Item(keyBreakGlass, breakGlass))
	}
	return ast.ObjectTerm(items...)
}

func (r *Resource) astTerm() (*ast.Term, error) {
	items := make([][2]*ast.Term, 2, 6)
	items[0] = stringItem(keyType, r.Type)
	items[1] = stringItem(keyTenant, r.Tenant)
	if r.ID != "" {
		items = append(items, stringItem(keyID, r.ID))
	}
	if r.Patient != "" {
		items = append(items, stringItem(keyPatient, r.Patient))
	}
	if len(r.SecurityLabels) > 0 {
		labels := make([]*ast.Term, len(r.SecurityLabels))
		for i, c := range r.SecurityLabels {
			labels[i] = c.astTerm()
		}
		items = append(items, ast.Item(keySecurityLabels, ast.ArrayTerm(labels...)))
	}
	if len(r.Payload) > 0 {
		payload, err := rawValue(r.Payload)
		if err != nil {
			return nil, fmt.Errorf("policy input: resource.payload: %w", err)
		}
		items = append(items, ast.Item(keyPayload, ast.NewTerm(payload)))
	}
	return ast.ObjectTerm(items...), nil
}

func (c Coding) astTerm() *ast.Term {
	items := make([][2]*ast.Term, 1, 3)
	items[0] = stringItem(keyCode, c.Code)
	if c.System != "" {
		items = append(items, stringItem(keySystem, c.System))
	}
	if c.Display != "" {
		items = append(items, stringItem(keyDisplay, c.Display))
	}
	return ast.ObjectTerm(items...)
}

func (p *Provider) astTerm() *ast.Term {
	use := p.DataUse
	dataUse := make([][2]*ast.Term, 3, 5)
	dataUse[0] = ast.Item(keyEgress, ast.InternedTerm(use.Egress))
	dataUse[1] = ast.Item(keyBAA, ast.InternedTerm(use.BAA))
	dataUse[2] = ast.Item(keyRetentionDays, ast.InternedTerm(use.RetentionDays))
	if len(use.Hosts) > 0 {
		dataUse = append(dataUse, ast.Item(keyHosts, stringsTerm(use.Hosts)))
	}
	if use.Region != "" {
		dataUse = append(dataUse, stringItem(keyRegion, use.Region))
	}
	return ast.ObjectTerm(
		stringItem(keyKind, string(p.Kind)),
		stringItem(keyName, p.Name),
		stringItem(keyVersion, p.Version),
		ast.Item(keyDataUse, ast.ObjectTerm(dataUse...)),
	)
}

func (c *Context) astTerm() (*ast.Term, error) {
	items := make([][2]*ast.Term, 0, 3)
	if !c.Time.IsZero() {
		items = append(items, stringItem(keyTime, formatTime(c.Time)))
	}
	if c.RequestID != "" {
		items = append(items, stringItem(keyRequestID, c.RequestID))
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
		items = append(items, ast.Item(keyConsents, ast.ArrayTerm(consents...)))
	}
	return ast.ObjectTerm(items...), nil
}

func stringItem(key *ast.Term, value string) [2]*ast.Term {
	return ast.Item(key, ast.StringTerm(value))
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
