package policy

import (
	"encoding/json"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// Input is the document a policy decides on, input in Rego. The JSON tags
// are the field names the policies read; docs/policy.md describes each.
type Input struct {
	// Subject is the caller.
	Subject Subject `json:"subject"`
	// Action is the requested operation: read, search, history, create,
	// update, delete, transcribe, analyze, chat or export.
	Action string `json:"action"`
	// Resource is the resource the action applies to.
	Resource Resource `json:"resource"`
	// Provider is the provider the request goes to, or nil when no
	// provider is involved.
	Provider *Provider `json:"provider,omitempty"`
	// Context is the circumstances of the request.
	Context Context `json:"context"`
}

// Subject is the person or service account behind a request.
type Subject struct {
	// ID is the subject's reference, such as "Practitioner/123".
	ID string `json:"id"`
	// Roles lists the subject's roles: clinician, nurse, admin, patient,
	// researcher, billing or service.
	Roles []string `json:"roles"`
	// Tenant is the tenant the subject belongs to.
	Tenant string `json:"tenant"`
	// Scopes lists the SMART on FHIR scopes of the subject's token, such as
	// "patient/Observation.rs". Nil means the request carries no token
	// scopes, and an empty, non-nil slice means a token without any.
	Scopes []string `json:"scopes,omitzero"`
	// PurposeOfUse is the HL7 v3 PurposeOfUse code of the request, such as
	// TREAT, ETREAT, HPAYMT or HRESCH.
	PurposeOfUse string `json:"purpose_of_use,omitempty"`
	// Patient is the patient in context, such as "Patient/123": for a
	// subject with the patient role the patient they are, otherwise the
	// SMART launch patient that patient/ scopes refer to.
	Patient string `json:"patient,omitempty"`
	// BreakGlass is set when the subject invokes emergency access.
	BreakGlass *BreakGlass `json:"break_glass,omitempty"`
}

// BreakGlass is a request for emergency access.
type BreakGlass struct {
	// Reason is the subject's justification, in their words.
	Reason string `json:"reason"`
	// StartedAt is when the break-glass session began.
	StartedAt time.Time `json:"started_at"`
}

// Resource is the resource an action is on.
type Resource struct {
	// Type is the FHIR resource type, such as "Observation". Plain-text
	// chat messages use "Communication".
	Type string `json:"type"`
	// ID is the resource id; empty for search, create and type history.
	ID string `json:"id,omitempty"`
	// Tenant is the tenant that owns the resource.
	Tenant string `json:"tenant"`
	// Patient is the reference of the patient the resource is about, such
	// as "Patient/123"; empty when it is about no patient.
	Patient string `json:"patient,omitempty"`
	// SecurityLabels are the resource's meta.security codings.
	SecurityLabels []Coding `json:"security_labels,omitempty"`
	// Payload is the resource's JSON, for rules that read it. Leave it
	// empty when no rule needs it: it is converted on every decision.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Coding is a FHIR Coding: a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// Provider is the provider a request goes to, with its data-use
// declaration exactly as the SDK reports it.
type Provider struct {
	// Kind is the provider kind serving the request, such as "llm".
	Kind sdk.Kind `json:"kind"`
	// Name and Version identify the provider (sdk.Info).
	Name    string `json:"name"`
	Version string `json:"version"`
	// DataUse is the provider's data-use declaration.
	DataUse sdk.DataUse `json:"data_use"`
}

// Context is the circumstances of a request.
type Context struct {
	// Time is the decision time; zero means the time of evaluation.
	Time time.Time `json:"time,omitzero"`
	// RequestID is the hub's request id.
	RequestID string `json:"request_id,omitempty"`
	// Consents are the FHIR Consent resources (JSON) of the resource's
	// patient.
	Consents []json.RawMessage `json:"consents,omitempty"`
}
