package fhir

import (
	"encoding/json"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOperationOutcomeMapsIssueFields(t *testing.T) {
	o := sdk.NewOutcome(sdk.Issue{
		Severity:    sdk.SeverityError,
		Code:        sdk.CodeInvariant,
		Path:        "/contact/0",
		Expression:  "Patient.contact[0]",
		Diagnostics: "a contact needs a name (pat-1)",
		Rule:        "pat-1",
		Source:      sdk.SourceHub,
	})

	var got map[string]any
	require.NoError(t, json.Unmarshal(MarshalOperationOutcome(o), &got))

	assert.Equal(t, "OperationOutcome", got["resourceType"])
	issues := got["issue"].([]any)
	require.Len(t, issues, 1)
	issue := issues[0].(map[string]any)
	assert.Equal(t, "error", issue["severity"])
	assert.Equal(t, "invariant", issue["code"])
	assert.Equal(t, []any{"/contact/0"}, issue["location"])
	assert.Equal(t, []any{"Patient.contact[0]"}, issue["expression"])
	assert.Equal(t, "a contact needs a name (pat-1)", issue["diagnostics"])
	assert.Equal(t, map[string]any{
		"coding": []any{map[string]any{"system": RuleSystem, "code": "pat-1"}},
		"text":   "pat-1",
	}, issue["details"])
	assert.Equal(t, []any{map[string]any{"url": SourceExtensionURL, "valueCode": "hub"}}, issue["extension"])
}

func TestOperationOutcomeOmitsEmptyFields(t *testing.T) {
	oo := NewOperationOutcome(sdk.Errorf(sdk.CodeTimeout, "provider timed out"))

	require.Len(t, oo.Issue, 1)
	assert.Nil(t, oo.Issue[0].Location)
	assert.Nil(t, oo.Issue[0].Expression)
	assert.Nil(t, oo.Issue[0].Details)
	assert.Nil(t, oo.Issue[0].Extension)
	assert.Equal(t, "timeout", oo.Issue[0].Code)
}

func TestOperationOutcomeNilHasOneIssue(t *testing.T) {
	for _, o := range []*sdk.Outcome{nil, sdk.NewOutcome()} {
		oo := NewOperationOutcome(o)
		require.Len(t, oo.Issue, 1)
		assert.Equal(t, "information", oo.Issue[0].Severity)
		assert.Equal(t, "informational", oo.Issue[0].Code)
	}
}

func TestOperationOutcomeKeepsIssueOrder(t *testing.T) {
	o := sdk.NewOutcome(
		sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Diagnostics: "first"},
		sdk.Issue{Severity: sdk.SeverityWarning, Code: sdk.CodeValue, Diagnostics: "second"},
	)
	oo := NewOperationOutcome(o)

	require.Len(t, oo.Issue, 2)
	assert.Equal(t, "first", oo.Issue[0].Diagnostics)
	assert.Equal(t, "warning", oo.Issue[1].Severity)
}
