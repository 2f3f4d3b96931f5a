package policy

import (
	"errors"
	"fmt"
)

// Decision is the outcome of one policy evaluation.
type Decision struct {
	// ID identifies the decision in the audit trail (a random UUID).
	ID string `json:"decision_id"`
	// Allow is true when the request may proceed, under the obligations.
	Allow bool `json:"allow"`
	// Reasons explain the decision: the grants and notes when allowed, the
	// denials when not. Never empty.
	Reasons []Reason `json:"reasons"`
	// Obligations must be applied before the payload leaves the hub.
	Obligations Obligations `json:"obligations"`
	// Revision identifies the policy set that decided: the SHA-256 of its
	// modules, in hex.
	Revision string `json:"revision,omitempty"`
}

// Reason is one reason of a decision.
type Reason struct {
	// Code is stable for programs, such as "tenant.mismatch".
	Code string `json:"code"`
	// Message is for people. It names roles, actions, types and codes,
	// never values from a record.
	Message string `json:"message"`
}

// Audit levels of Obligations.AuditLevel.
const (
	AuditStandard = "standard"
	AuditHigh     = "high"
)

// Date precisions of DateRule.Precision.
const (
	PrecisionYear  = "year"
	PrecisionMonth = "month"
)

// Free-text replacement modes of ScrubRule.Replace.
const (
	// ReplaceRedact puts a category marker such as [NAME] in place of what
	// the scrubber finds.
	ReplaceRedact = "redact"
	// ReplacePseudonymize puts a pseudonym token in place of what the
	// scrubber finds, which the hub can map back when Reidentify allows.
	ReplacePseudonymize = "pseudonymize"
)

// Obligations are the changes the hub must make to a payload, and how it
// must audit the request. Paths are FHIRPath-like, such as "Patient.name"
// or "Resource.descendants()"; package obligation documents the syntax.
type Obligations struct {
	// Remove lists elements to delete.
	Remove []ElementRule `json:"remove,omitempty"`
	// Mask lists elements whose value is replaced by the FHIR
	// data-absent-reason "masked".
	Mask []ElementRule `json:"mask,omitempty"`
	// Pseudonymize lists identifiers (Identifier elements, ids or
	// strings) to replace by pseudonym tokens.
	Pseudonymize []ElementRule `json:"pseudonymize,omitempty"`
	// GeneralizeDates lists date elements to cut to a precision.
	GeneralizeDates []DateRule `json:"generalize_dates,omitempty"`
	// ScrubText lists free-text elements to clean of identifying data.
	ScrubText []ScrubRule `json:"scrub_text,omitempty"`
	// AuditLevel is AuditStandard or AuditHigh.
	AuditLevel string `json:"audit_level"`
	// Review flags the request for human review after the fact.
	Review bool `json:"review"`
	// Reidentify allows mapping pseudonym tokens in a provider's reply back
	// to the real values.
	Reidentify bool `json:"reidentify"`
}

// ElementRule names an element and the rule that asked for the change.
type ElementRule struct {
	Path string `json:"path"`
	Rule string `json:"rule"`
}

// DateRule names date elements to generalize, to PrecisionYear or
// PrecisionMonth.
type DateRule struct {
	Path      string `json:"path"`
	Precision string `json:"precision"`
	Rule      string `json:"rule"`
}

// ScrubRule names free-text elements to scrub and how (ReplaceRedact or
// ReplacePseudonymize).
type ScrubRule struct {
	Path    string `json:"path"`
	Replace string `json:"replace"`
	Rule    string `json:"rule"`
}

// Empty reports whether the obligations change no payload.
func (o Obligations) Empty() bool {
	return len(o.Remove) == 0 && len(o.Mask) == 0 && len(o.Pseudonymize) == 0 &&
		len(o.GeneralizeDates) == 0 && len(o.ScrubText) == 0
}

// Reason codes the engine itself gives, when the policy cannot decide.
const (
	ReasonUndefined = "policy.undefined"
	ReasonMalformed = "policy.malformed"
	ReasonError     = "policy.error"
)

// Sentinel errors returned with a deny Decision.
var (
	// ErrUndefined is returned when the decision query has no result.
	ErrUndefined = errors.New("policy decision is undefined")
	// ErrMalformed is returned when the decision does not have the
	// documented shape.
	ErrMalformed = errors.New("policy decision is malformed")
	// ErrEvaluation wraps errors raised while evaluating the policies,
	// built-in errors included.
	ErrEvaluation = errors.New("policy evaluation failed")
	// ErrInvalidInput is returned when the input cannot be converted, such
	// as a payload that is not JSON.
	ErrInvalidInput = errors.New("invalid policy input")
)

// denyDecision returns the fail-closed decision for a policy that could
// not decide.
func denyDecision(code, message string) Decision {
	return Decision{
		Allow:       false,
		Reasons:     []Reason{{Code: code, Message: message}},
		Obligations: Obligations{AuditLevel: AuditHigh},
	}
}

// parseDecision reads the decision document the policy returned, as
// rego.ResultSet gives it (map[string]any, []any, string, bool).
func parseDecision(v any) (Decision, error) {
	doc, ok := v.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("%w: want an object, got %T", ErrMalformed, v)
	}
	var d Decision
	var err error
	if d.Allow, ok = doc["allow"].(bool); !ok {
		return Decision{}, fmt.Errorf("%w: allow is not a boolean", ErrMalformed)
	}
	if d.Reasons, err = parseReasons(doc["reasons"]); err != nil {
		return Decision{}, err
	}
	if d.Obligations, err = parseObligations(doc["obligations"]); err != nil {
		return Decision{}, err
	}
	return d, nil
}

func parseReasons(v any) ([]Reason, error) {
	items, ok := v.([]any)
	if !ok || len(items) == 0 {
		return nil, fmt.Errorf("%w: reasons is not a non-empty array", ErrMalformed)
	}
	reasons := make([]Reason, len(items))
	for i, item := range items {
		fields, err := stringFields(item, "code", "message")
		if err != nil {
			return nil, fmt.Errorf("%w: reasons[%d]: %w", ErrMalformed, i, err)
		}
		reasons[i] = Reason{Code: fields[0], Message: fields[1]}
	}
	return reasons, nil
}

func parseObligations(v any) (Obligations, error) {
	doc, ok := v.(map[string]any)
	if !ok {
		return Obligations{}, fmt.Errorf("%w: obligations is not an object", ErrMalformed)
	}
	var o Obligations
	var err error
	if o.AuditLevel, ok = doc["audit_level"].(string); !ok || (o.AuditLevel != AuditStandard && o.AuditLevel != AuditHigh) {
		return Obligations{}, fmt.Errorf("%w: obligations.audit_level is not %q or %q", ErrMalformed, AuditStandard, AuditHigh)
	}
	if o.Review, ok = doc["review"].(bool); !ok {
		return Obligations{}, fmt.Errorf("%w: obligations.review is not a boolean", ErrMalformed)
	}
	if o.Reidentify, ok = doc["reidentify"].(bool); !ok {
		return Obligations{}, fmt.Errorf("%w: obligations.reidentify is not a boolean", ErrMalformed)
	}
	if o.Remove, err = elementRules(doc, "remove"); err != nil {
		return Obligations{}, err
	}
	if o.Mask, err = elementRules(doc, "mask"); err != nil {
		return Obligations{}, err
	}
	if o.Pseudonymize, err = elementRules(doc, "pseudonymize"); err != nil {
		return Obligations{}, err
	}
	if o.GeneralizeDates, err = dateRules(doc); err != nil {
		return Obligations{}, err
	}
	if o.ScrubText, err = scrubRules(doc); err != nil {
		return Obligations{}, err
	}
	return o, nil
}

func ruleItems(doc map[string]any, key string) ([]any, error) {
	v, present := doc[key]
	if !present {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: obligations.%s is not an array", ErrMalformed, key)
	}
	return items, nil
}

func elementRules(doc map[string]any, key string) ([]ElementRule, error) {
	items, err := ruleItems(doc, key)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	rules := make([]ElementRule, len(items))
	for i, item := range items {
		fields, err := stringFields(item, "path", "rule")
		if err != nil {
			return nil, fmt.Errorf("%w: obligations.%s[%d]: %w", ErrMalformed, key, i, err)
		}
		rules[i] = ElementRule{Path: fields[0], Rule: fields[1]}
	}
	return rules, nil
}

func dateRules(doc map[string]any) ([]DateRule, error) {
	items, err := ruleItems(doc, "generalize_dates")
	if err != nil || len(items) == 0 {
		return nil, err
	}
	rules := make([]DateRule, len(items))
	for i, item := range items {
		fields, err := stringFields(item, "path", "precision", "rule")
		if err == nil && fields[1] != PrecisionYear && fields[1] != PrecisionMonth {
			err = fmt.Errorf("precision %q is not %q or %q", fields[1], PrecisionYear, PrecisionMonth)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: obligations.generalize_dates[%d]: %w", ErrMalformed, i, err)
		}
		rules[i] = DateRule{Path: fields[0], Precision: fields[1], Rule: fields[2]}
	}
	return rules, nil
}

func scrubRules(doc map[string]any) ([]ScrubRule, error) {
	items, err := ruleItems(doc, "scrub_text")
	if err != nil || len(items) == 0 {
		return nil, err
	}
	rules := make([]ScrubRule, len(items))
	for i, item := range items {
		fields, err := stringFields(item, "path", "replace", "rule")
		if err == nil && fields[1] != ReplaceRedact && fields[1] != ReplacePseudonymize {
			err = fmt.Errorf("replace %q is not %q or %q", fields[1], ReplaceRedact, ReplacePseudonymize)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: obligations.scrub_text[%d]: %w", ErrMalformed, i, err)
		}
		rules[i] = ScrubRule{Path: fields[0], Replace: fields[1], Rule: fields[2]}
	}
	return rules, nil
}

// stringFields returns the string values of keys in the object v, in
// order. Every key must be present with a non-empty string.
func stringFields(v any, keys ...string) ([]string, error) {
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	out := make([]string, len(keys))
	for i, key := range keys {
		s, ok := doc[key].(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("%s is not a non-empty string", key)
		}
		out[i] = s
	}
	return out, nil
}
