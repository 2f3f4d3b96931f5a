package fhir

import (
	"encoding/json"

	"github.com/healthhub/healthhub/sdk"
)

// RuleSystem is the code system of issue.details codings that name the rule
// behind an issue, such as a FHIR invariant ("pat-1") or a policy rule.
const RuleSystem = "urn:healthhub:rule"

// SourceExtensionURL is the URL of the issue extension that names the party
// at fault: hub, plugin or upstream.
const SourceExtensionURL = "urn:healthhub:extension:issue-source"

// OperationOutcome is the FHIR R4 OperationOutcome resource, with the
// elements the hub fills.
type OperationOutcome struct {
	ResourceType string         `json:"resourceType"`
	Issue        []OutcomeIssue `json:"issue"`
}

// OutcomeIssue is one OperationOutcome.issue.
type OutcomeIssue struct {
	Extension []Extension `json:"extension,omitempty"`
	// Severity is fatal, error, warning or information.
	Severity string `json:"severity"`
	// Code is a code of the FHIR issue-type value set.
	Code string `json:"code"`
	// Details names the rule that raised the issue, when there is one.
	Details *CodeableConcept `json:"details,omitempty"`
	// Diagnostics is the message a person acts on.
	Diagnostics string `json:"diagnostics,omitempty"`
	// Location holds the RFC 6901 JSON Pointer of the element, such as
	// "/name/0/given/1". FHIR R4 defines location for XPath and marks it
	// deprecated; the hub uses it for JSON Pointers, which clients of JSON
	// APIs resolve directly.
	Location []string `json:"location,omitempty"`
	// Expression holds the FHIRPath of the element, such as
	// "Patient.name[0].given[1]".
	Expression []string `json:"expression,omitempty"`
}

// CodeableConcept is the FHIR CodeableConcept datatype.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Coding is the FHIR Coding datatype.
type Coding struct {
	System string `json:"system,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Extension is a FHIR extension with a code value.
type Extension struct {
	URL       string `json:"url"`
	ValueCode string `json:"valueCode,omitempty"`
}

// NewOperationOutcome converts an outcome into the FHIR resource. A nil or
// empty outcome becomes one information issue, because FHIR requires at
// least one issue.
func NewOperationOutcome(o *sdk.Outcome) *OperationOutcome {
	out := &OperationOutcome{ResourceType: "OperationOutcome"}
	if o == nil || len(o.Issues) == 0 {
		out.Issue = []OutcomeIssue{{Severity: string(sdk.SeverityInformation), Code: "informational", Diagnostics: "no issues"}}
		return out
	}
	out.Issue = make([]OutcomeIssue, len(o.Issues))
	for i, issue := range o.Issues {
		out.Issue[i] = convertIssue(issue)
	}
	return out
}

func convertIssue(issue sdk.Issue) OutcomeIssue {
	out := OutcomeIssue{
		Severity:    string(issue.Severity),
		Code:        string(issue.Code),
		Diagnostics: issue.Diagnostics,
	}
	if out.Severity == "" {
		out.Severity = string(sdk.SeverityError)
	}
	if out.Code == "" {
		out.Code = string(sdk.CodeProcessing)
	}
	if issue.Source != "" {
		out.Extension = []Extension{{URL: SourceExtensionURL, ValueCode: string(issue.Source)}}
	}
	if issue.Rule != "" {
		out.Details = &CodeableConcept{Coding: []Coding{{System: RuleSystem, Code: issue.Rule}}, Text: issue.Rule}
	}
	if issue.Path != "" {
		out.Location = []string{issue.Path}
	}
	if issue.Expression != "" {
		out.Expression = []string{issue.Expression}
	}
	return out
}

// MarshalOperationOutcome returns the OperationOutcome of o as indented
// JSON, ending in a newline.
func MarshalOperationOutcome(o *sdk.Outcome) []byte {
	data, err := json.MarshalIndent(NewOperationOutcome(o), "", "  ")
	if err != nil {
		// MarshalIndent fails only on unsupported types and values, and the
		// structure holds strings and slices of structs of strings.
		panic("fhir: encode OperationOutcome: " + err.Error())
	}
	return append(data, '\n')
}
