package policy

import (
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
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

// Keys of the decision document, built once.
var (
	keyAllow           = ast.StringTerm("allow")
	keyReasons         = ast.StringTerm("reasons")
	keyObligations     = ast.StringTerm("obligations")
	keyMessage         = ast.StringTerm("message")
	keyAuditLevel      = ast.StringTerm("audit_level")
	keyReview          = ast.StringTerm("review")
	keyReidentify      = ast.StringTerm("reidentify")
	keyRemove          = ast.StringTerm("remove")
	keyMask            = ast.StringTerm("mask")
	keyPseudonymize    = ast.StringTerm("pseudonymize")
	keyGeneralizeDates = ast.StringTerm("generalize_dates")
	keyScrubText       = ast.StringTerm("scrub_text")
	keyPath            = ast.StringTerm("path")
	keyRule            = ast.StringTerm("rule")
	keyPrecision       = ast.StringTerm("precision")
	keyReplace         = ast.StringTerm("replace")
)

// parseDecision reads the decision document the policy returned, as a
// Rego value. Arrays in the document may be Rego arrays or sets; a set is
// read in its sorted order.
func parseDecision(v ast.Value) (Decision, error) {
	doc, ok := v.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("%w: want an object, got %s", ErrMalformed, ast.ValueName(v))
	}
	var d Decision
	var err error
	if d.Allow, ok = boolField(doc, keyAllow); !ok {
		return Decision{}, fmt.Errorf("%w: allow is not a boolean", ErrMalformed)
	}
	if d.Reasons, err = parseReasons(doc.Get(keyReasons)); err != nil {
		return Decision{}, err
	}
	if d.Obligations, err = parseObligations(doc.Get(keyObligations)); err != nil {
		return Decision{}, err
	}
	return d, nil
}

func parseReasons(t *ast.Term) ([]Reason, error) {
	items, ok := collectionItems(t)
	if !ok || len(items) == 0 {
		return nil, fmt.Errorf("%w: reasons is not a non-empty array", ErrMalformed)
	}
	reasons := make([]Reason, len(items))
	for i, item := range items {
		fields, err := stringFields(item, keyCode, keyMessage)
		if err != nil {
			return nil, fmt.Errorf("%w: reasons[%d]: %w", ErrMalformed, i, err)
		}
		reasons[i] = Reason{Code: fields[0], Message: fields[1]}
	}
	return reasons, nil
}

func parseObligations(t *ast.Term) (Obligations, error) {
	var doc ast.Object
	if t != nil {
		doc, _ = t.Value.(ast.Object)
	}
	if doc == nil {
		return Obligations{}, fmt.Errorf("%w: obligations is not an object", ErrMalformed)
	}
	var o Obligations
	var ok bool
	var err error
	if o.AuditLevel, ok = stringField(doc, keyAuditLevel); !ok || (o.AuditLevel != AuditStandard && o.AuditLevel != AuditHigh) {
		return Obligations{}, fmt.Errorf("%w: obligations.audit_level is not %q or %q", ErrMalformed, AuditStandard, AuditHigh)
	}
	if o.Review, ok = boolField(doc, keyReview); !ok {
		return Obligations{}, fmt.Errorf("%w: obligations.review is not a boolean", ErrMalformed)
	}
	if o.Reidentify, ok = boolField(doc, keyReidentify); !ok {
		return Obligations{}, fmt.Errorf("%w: obligations.reidentify is not a boolean", ErrMalformed)
	}
	if o.Remove, err = elementRules(doc, keyRemove); err != nil {
		return Obligations{}, err
	}
	if o.Mask, err = elementRules(doc, keyMask); err != nil {
		return Obligations{}, err
	}
	if o.Pseudonymize, err = elementRules(doc, keyPseudonymize); err != nil {
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

// collectionItems returns the elements of an array or a set, a set's in
// sorted order.
func collectionItems(t *ast.Term) ([]*ast.Term, bool) {
	if t == nil {
		return nil, false
	}
	switch v := t.Value.(type) {
	case *ast.Array:
		items := make([]*ast.Term, v.Len())
		for i := range items {
			items[i] = v.Elem(i)
		}
		return items, true
	case ast.Set:
		return v.Slice(), true
	default:
		return nil, false
	}
}

func ruleItems(doc ast.Object, key *ast.Term) ([]*ast.Term, error) {
	t := doc.Get(key)
	if t == nil {
		return nil, nil
	}
	items, ok := collectionItems(t)
	if !ok {
		return nil, fmt.Errorf("%w: obligations.%s is not an array", ErrMalformed, termText(key))
	}
	return items, nil
}

func elementRules(doc ast.Object, key *ast.Term) ([]ElementRule, error) {
	items, err := ruleItems(doc, key)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	rules := make([]ElementRule, len(items))
	for i, item := range items {
		fields, err := stringFields(item, keyPath, keyRule)
		if err != nil {
			return nil, fmt.Errorf("%w: obligations.%s[%d]: %w", ErrMalformed, termText(key), i, err)
		}
		rules[i] = ElementRule{Path: fields[0], Rule: fields[1]}
	}
	return rules, nil
}

func dateRules(doc ast.Object) ([]DateRule, error) {
	items, err := ruleItems(doc, keyGeneralizeDates)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	rules := make([]DateRule, len(items))
	for i, item := range items {
		fields, err := stringFields(item, keyPath, keyPrecision, keyRule)
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

func scrubRules(doc ast.Object) ([]ScrubRule, error) {
	items, err := ruleItems(doc, keyScrubText)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	rules := make([]ScrubRule, len(items))
	for i, item := range items {
		fields, err := stringFields(item, keyPath, keyReplace, keyRule)
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

// maxFields is the most fields stringFields reads from one object.
const maxFields = 3

// stringFields returns the string values of keys in the object t, in
// order, in an array so that reading a decision's many items allocates
// nothing for them. Every key must be present with a non-empty string.
func stringFields(t *ast.Term, keys ...*ast.Term) ([maxFields]string, error) {
	var out [maxFields]string
	doc, ok := t.Value.(ast.Object)
	if !ok {
		return out, fmt.Errorf("not an object")
	}
	for i, key := range keys {
		s, ok := stringField(doc, key)
		if !ok || s == "" {
			return out, fmt.Errorf("%s is not a non-empty string", termText(key))
		}
		out[i] = s
	}
	return out, nil
}

func stringField(doc ast.Object, key *ast.Term) (string, bool) {
	t := doc.Get(key)
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

func boolField(doc ast.Object, key *ast.Term) (bool, bool) {
	t := doc.Get(key)
	if t == nil {
		return false, false
	}
	b, ok := t.Value.(ast.Boolean)
	return bool(b), ok
}

// termText returns the text of a key term, for error messages.
func termText(key *ast.Term) string {
	s, _ := key.Value.(ast.String)
	return string(s)
}
