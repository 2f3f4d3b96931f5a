package policy

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func chatInput(dataUse sdk.DataUse) *Input {
	in := clinicianRead()
	in.Action = "chat"
	in.Resource = Resource{Type: "Communication", Tenant: "north", Patient: "Patient/example"}
	in.Provider = &Provider{Kind: sdk.KindLLM, Name: "chat-cloud", Version: "2.1.0", DataUse: dataUse}
	return in
}

var cloudNoBAA = sdk.DataUse{Egress: true, Hosts: []string{"api.chat.example"}, Region: "us-east-1", RetentionDays: 0}

func TestDecideScenarios(t *testing.T) {
	e := newEngine(t, Config{AllowedRegions: []string{"us-east-1"}})
	consentExample := readTestdata(t, "fhir-r4-examples/Consent-consent-example-basic.json")

	tests := []struct {
		name   string
		input  func() *Input
		allow  bool
		codes  []string
		audit  string
		review bool
	}{
		{
			name:  "clinician reads an observation",
			input: clinicianRead,
			allow: true, codes: []string{"access.role"}, audit: AuditStandard,
		},
		{
			name: "clinician of another tenant",
			input: func() *Input {
				in := clinicianRead()
				in.Resource.Tenant = "south"
				return in
			},
			codes: []string{"tenant.mismatch"}, audit: AuditStandard,
		},
		{
			name:  "break-glass across tenants with a sensitive label",
			input: breakGlassRead,
			allow: true, codes: []string{"access.role", "break_glass.active", "labels.break_glass", "tenant.break_glass"},
			audit: AuditHigh, review: true,
		},
		{
			name: "break-glass with a one-word reason",
			input: func() *Input {
				in := breakGlassRead()
				in.Subject.BreakGlass.Reason = "emergency"
				return in
			},
			codes: []string{"break_glass.reason", "labels.sensitive", "tenant.mismatch"}, audit: AuditHigh,
		},
		{
			name: "break-glass started two hours ago",
			input: func() *Input {
				in := breakGlassRead()
				in.Subject.BreakGlass.StartedAt = decisionTime.Add(-2 * time.Hour)
				return in
			},
			codes: []string{"break_glass.expired", "labels.sensitive", "tenant.mismatch"}, audit: AuditHigh,
		},
		{
			name: "patient reads another patient",
			input: func() *Input {
				in := clinicianRead()
				in.Subject = Subject{ID: "Patient/other", Roles: []string{"patient"}, Tenant: "north", Patient: "Patient/other", Scopes: []string{"patient/*.rs"}}
				return in
			},
			codes: []string{"patient.not_own_record", "smart.no_scope"}, audit: AuditStandard,
		},
		{
			name: "scope for another type",
			input: func() *Input {
				in := clinicianRead()
				in.Subject.Scopes = []string{"user/Condition.rs"}
				return in
			},
			codes: []string{"smart.no_scope"}, audit: AuditStandard,
		},
		{
			name: "HL7 example consent outside its period",
			input: func() *Input {
				in := clinicianRead()
				in.Resource.Patient = "Patient/f001"
				in.Context.Consents = []json.RawMessage{consentExample}
				return in
			},
			allow: true, codes: []string{"access.role"}, audit: AuditStandard,
		},
		{
			name: "chat with a provider without BAA",
			input: func() *Input {
				return chatInput(cloudNoBAA)
			},
			allow: true, codes: []string{"access.role", "egress.deidentify"}, audit: AuditStandard,
		},
		{
			name: "provider in a region not allowed",
			input: func() *Input {
				use := cloudNoBAA
				use.Region = "ap-south-1"
				return chatInput(use)
			},
			codes: []string{"egress.region"}, audit: AuditStandard,
		},
		{
			name: "provider keeps data indefinitely",
			input: func() *Input {
				use := cloudNoBAA
				use.RetentionDays = -1
				return chatInput(use)
			},
			codes: []string{"egress.retention"}, audit: AuditStandard,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Decide(context.Background(), tc.input())
			require.NoError(t, err)
			assert.Equal(t, tc.allow, d.Allow)
			assert.Equal(t, tc.codes, reasonCodes(d))
			assert.Equal(t, tc.audit, d.Obligations.AuditLevel)
			assert.Equal(t, tc.review, d.Obligations.Review)
			assert.NotEmpty(t, d.ID)
			assert.Equal(t, e.Revision(), d.Revision)
		})
	}
}

func TestDecideChatObligations(t *testing.T) {
	e := newEngine(t, Config{AllowedRegions: []string{"us-east-1"}})
	d, err := e.Decide(context.Background(), chatInput(cloudNoBAA))
	require.NoError(t, err)
	require.True(t, d.Allow)

	o := d.Obligations
	assert.Contains(t, o.Remove, ElementRule{Path: "Patient.name", Rule: "egress.deidentify"})
	assert.Contains(t, o.Remove, ElementRule{Path: "Patient.telecom", Rule: "egress.deidentify"})
	assert.Contains(t, o.Remove, ElementRule{Path: "Patient.address", Rule: "egress.deidentify"})
	assert.Contains(t, o.Pseudonymize, ElementRule{Path: "Resource.identifier", Rule: "egress.deidentify"})
	assert.Equal(t, []DateRule{{Path: "Resource.descendants()", Precision: PrecisionYear, Rule: "egress.deidentify"}}, o.GeneralizeDates)
	assert.Contains(t, o.ScrubText, ScrubRule{Path: "Resource.text.div", Replace: ReplacePseudonymize, Rule: "egress.deidentify"})
	assert.True(t, o.Reidentify)
	assert.False(t, o.Empty())
}

func TestDecideIDsAreUnique(t *testing.T) {
	e := newEngine(t, Config{})
	first, err := e.Decide(context.Background(), clinicianRead())
	require.NoError(t, err)
	second, err := e.Decide(context.Background(), clinicianRead())
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, second.ID)
}

func TestDecideJSONMalformedDateDenies(t *testing.T) {
	e := newEngine(t, Config{})
	tests := []struct {
		name  string
		input string
	}{
		{"context time", `{"subject":{"id":"Practitioner/f001","roles":["clinician"],"tenant":"north","scopes":["user/*.cruds"],"break_glass":{"reason":"patient unconscious in the emergency department","started_at":"2025-03-04T09:50:00Z"}},"action":"read","resource":{"type":"Observation","tenant":"north"},"context":{"time":"yesterday"}}`},
		{"break-glass start", `{"subject":{"id":"Practitioner/f001","roles":["clinician"],"tenant":"north","scopes":["user/*.cruds"],"break_glass":{"reason":"patient unconscious in the emergency department","started_at":"04/03/2025 09:50"}},"action":"read","resource":{"type":"Observation","tenant":"north"},"context":{"time":"2025-03-04T10:00:00Z"}}`},
		{"consent period", `{"subject":{"id":"Practitioner/f001","roles":["clinician"],"tenant":"north","scopes":["user/*.cruds"],"purpose_of_use":"HRESCH"},"action":"read","resource":{"type":"Observation","tenant":"north","patient":"Patient/p1"},"context":{"time":"2025-03-04T10:00:00Z","consents":[{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p1"},"provision":{"type":"permit","purpose":[{"code":"HRESCH"}],"period":{"start":"soon"}}}]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.DecideJSON(context.Background(), []byte(tc.input))
			require.ErrorIs(t, err, ErrEvaluation)
			assert.False(t, d.Allow)
			assert.Equal(t, []string{ReasonError}, reasonCodes(d))
			assert.Contains(t, d.Reasons[0].Message, "eval_builtin_error")
			assert.NotContains(t, d.Reasons[0].Message, "yesterday")
			assert.NotEmpty(t, d.ID)
		})
	}
}

func TestDecideJSONInvalidInputDenies(t *testing.T) {
	e := newEngine(t, Config{})
	for _, input := range []string{`not json`, `[1, 2]`, `"read"`, `{"subjekt": {}}`, `{"subject": {"role": ["admin"]}}`} {
		t.Run(input, func(t *testing.T) {
			d, err := e.DecideJSON(context.Background(), []byte(input))
			require.ErrorIs(t, err, ErrInvalidInput)
			assert.False(t, d.Allow)
			assert.Equal(t, []string{ReasonError}, reasonCodes(d))
		})
	}
}

func TestDecideInvalidPayloadDenies(t *testing.T) {
	e := newEngine(t, Config{})
	in := clinicianRead()
	in.Resource.Payload = json.RawMessage(`{"resourceType": `)
	d, err := e.Decide(context.Background(), in)
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.False(t, d.Allow)
}

func TestDecideCancelledContextDenies(t *testing.T) {
	e := newEngine(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := e.Decide(ctx, clinicianRead())
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrEvaluation))
	assert.False(t, d.Allow)
}

// The retention limit is 30; a declaration of 30.0 days is the same number.
func TestDecideNumbersCompareByValue(t *testing.T) {
	e := newEngine(t, Config{AllowedRegions: []string{"us-east-1"}})
	in, err := json.Marshal(chatInput(cloudNoBAA))
	require.NoError(t, err)
	for _, days := range []string{"30", "30.0", "3e1", "30.000000000000000000001"} {
		t.Run(days, func(t *testing.T) {
			input := replaceRetention(t, in, days)
			d, err := e.DecideJSON(context.Background(), input)
			require.NoError(t, err)
			assert.Equal(t, days != "30.000000000000000000001", d.Allow, "retention_days %s: %v", days, d.Reasons)
		})
	}
}

func replaceRetention(t *testing.T, input []byte, days string) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(input, &doc))
	var provider map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(doc["provider"], &provider))
	var dataUse map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(provider["data_use"], &dataUse))
	dataUse["retention_days"] = json.RawMessage(days)
	provider["data_use"] = mustJSON(t, dataUse)
	doc["provider"] = mustJSON(t, provider)
	return mustJSON(t, doc)
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// The typed input and its JSON form must decide alike, since the CLI, the
// decide endpoint and an opa sidecar see the JSON form.
func TestDecideTypedAndJSONAgree(t *testing.T) {
	e := newEngine(t, Config{AllowedRegions: []string{"us-east-1"}, AllowMissingScopes: true})
	noScopes := clinicianRead()
	noScopes.Subject.Scopes = []string{}
	absentScopes := clinicianRead()
	absentScopes.Subject.Scopes = nil
	inputs := map[string]*Input{
		"clinician read": clinicianRead(),
		"break-glass":    breakGlassRead(),
		"chat":           chatInput(cloudNoBAA),
		"empty scopes":   noScopes,
		"absent scopes":  absentScopes,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			typed, err := e.Decide(context.Background(), in)
			require.NoError(t, err)
			raw, err := json.Marshal(in)
			require.NoError(t, err)
			fromJSON, err := e.DecideJSON(context.Background(), raw)
			require.NoError(t, err)
			assert.Equal(t, typed.Allow, fromJSON.Allow)
			assert.Equal(t, typed.Reasons, fromJSON.Reasons)
			assert.Equal(t, typed.Obligations, fromJSON.Obligations)
		})
	}
}

// A context that ends while the policy evaluates stops the evaluation: the
// policy below would take seconds.
func TestDecideContextEndsDuringEvaluation(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy+`
decision := {"allow": true, "reasons": [{"code": "test.slow", "message": "slow"}], "obligations": {"audit_level": "standard", "review": false, "reidentify": false}} if {
	some i in numbers.range(1, 5000)
	some j in numbers.range(1, 5000)
	i * j == -1
}
`)
	e := newEngine(t, Config{Dir: dir})
	in := clinicianRead()
	in.Action = "search"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	d, err := e.Decide(ctx, in)
	require.ErrorIs(t, err, ErrEvaluation)
	assert.False(t, d.Allow)
	assert.Equal(t, []string{ReasonError}, reasonCodes(d))
	assert.Contains(t, d.Reasons[0].Message, "eval_cancel_error")
}
