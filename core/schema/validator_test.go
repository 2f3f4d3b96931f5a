package schema

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func firstIssue(t *testing.T, err error) sdk.Issue {
	t.Helper()
	var o *sdk.Outcome
	require.True(t, errors.As(err, &o), "error is an outcome: %v", err)
	require.NotEmpty(t, o.Issues)
	return o.Issues[0]
}

func writeSchema(t *testing.T, dir, rel, content string) {
	t.Helper()
	path := filepath.Join(dir, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// A local profile of Patient: the embedded datatypes, and a required
// birthDate.
const localPatientSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "resourceType": {"const": "Patient"},
    "id": {"type": "string", "format": "fhir-id"},
    "name": {"type": "array", "items": {"$ref": "datatypes.schema.json#/$defs/HumanName"}},
    "birthDate": {"type": "string", "format": "fhir-date"}
  },
  "required": ["resourceType", "birthDate"],
  "additionalProperties": false
}`

// A resource type the hub does not ship.
const healthcareServiceSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "resourceType": {"const": "HealthcareService"},
    "name": {"type": "string", "format": "fhir-string"},
    "telecom": {"type": "array", "items": {"$ref": "datatypes.schema.json#/$defs/ContactPoint"}}
  },
  "required": ["resourceType", "name"],
  "additionalProperties": false
}`

func TestSchemaDirOverridesAndAddsTypes(t *testing.T) {
	dir := t.TempDir()
	writeSchema(t, dir, "fhir/Patient.schema.json", localPatientSchema)
	writeSchema(t, dir, "fhir/HealthcareService.schema.json", healthcareServiceSchema)
	v, err := New(context.Background(), Config{Dir: dir}, nil)
	require.NoError(t, err)

	assert.Contains(t, v.ResourceTypes(), "HealthcareService")
	assert.Contains(t, v.ResourceTypes(), "Observation")

	err = v.Validate(context.Background(), "", []byte(`{"resourceType": "Patient", "name": [{"family": "Chalmers"}]}`))
	issue := firstIssue(t, err)
	assert.Equal(t, sdk.CodeRequired, issue.Code)
	assert.Contains(t, issue.Diagnostics, `"birthDate"`)

	err = v.Validate(context.Background(), "", []byte(`{"resourceType": "Patient", "active": true, "birthDate": "1974"}`))
	issue = firstIssue(t, err)
	assert.Equal(t, "/active", issue.Path, "the override replaced the embedded Patient schema, which allows active")

	assert.NoError(t, v.Validate(context.Background(), "", []byte(`{"resourceType": "HealthcareService", "name": "Cardiology", "telecom": [{"system": "phone", "value": "071 526 9111"}]}`)))
	err = v.Validate(context.Background(), "", []byte(`{"resourceType": "HealthcareService", "name": "Cardiology", "telecom": [{"number": "071 526 9111"}]}`))
	issue = firstIssue(t, err)
	assert.Equal(t, "/telecom/0/number", issue.Path, "the embedded ContactPoint applies to the new type")
}

func TestSchemaDirTypesDispatchInBundles(t *testing.T) {
	dir := t.TempDir()
	writeSchema(t, dir, "fhir/HealthcareService.schema.json", healthcareServiceSchema)
	v, err := New(context.Background(), Config{Dir: dir}, nil)
	require.NoError(t, err)

	bundle := `{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "HealthcareService"}}]}`
	issue := firstIssue(t, v.Validate(context.Background(), "", []byte(bundle)))
	assert.Equal(t, "/entry/0/resource", issue.Path)
	assert.Equal(t, "Bundle.entry[0].resource", issue.Expression)
	assert.Contains(t, issue.Diagnostics, `"name"`)
}

func TestStrictModeAppliesDirProfile(t *testing.T) {
	dir := t.TempDir()
	writeSchema(t, dir, "fhir/Patient.schema.json", localPatientSchema)
	v, err := New(context.Background(), Config{Dir: dir, Strict: true}, nil)
	require.NoError(t, err)

	assert.Greater(t, len(v.ResourceTypes()), 140, "strict mode knows every R4 type")

	err = v.Validate(context.Background(), "", []byte(`{"resourceType": "Patient", "name": [{"family": "Chalmers"}]}`))
	issue := firstIssue(t, err)
	assert.Contains(t, issue.Diagnostics, `"birthDate"`, "the directory profile applies in strict mode")

	err = v.Validate(context.Background(), "", []byte(`{"resourceType": "Patient", "birthDate": "1974", "gender": "M"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"M" is not an allowed value`, "the official schema applies too")
}

func TestSchemaDirErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		message string
	}{
		{"bad JSON", map[string]string{"fhir/Patient.schema.json": `{"type": "object",}`}, "load schema fhir/Patient.schema.json"},
		{"dangling ref", map[string]string{"fhir/HealthcareService.schema.json": `{"$ref": "nope.schema.json#/$defs/X"}`}, "nope.schema.json not found"},
		{"invalid keyword", map[string]string{"fhir/HealthcareService.schema.json": `{"type": 5}`}, "fhir/HealthcareService.schema.json"},
		{"bad fhirChoice", map[string]string{"fhir/HealthcareService.schema.json": `{"fhirChoice": {"value[x]": {}}}`}, "fhir/HealthcareService.schema.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for rel, content := range tc.files {
				writeSchema(t, dir, rel, content)
			}
			_, err := New(context.Background(), Config{Dir: dir}, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.message)
		})
	}

	_, err := New(context.Background(), Config{Dir: filepath.Join(t.TempDir(), "missing")}, nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestReloadKeepsSchemasOnFailure(t *testing.T) {
	dir := t.TempDir()
	v, err := New(context.Background(), Config{Dir: dir}, nil)
	require.NoError(t, err)
	assert.False(t, v.HasResourceType("HealthcareService"))

	writeSchema(t, dir, "fhir/HealthcareService.schema.json", healthcareServiceSchema)
	require.NoError(t, v.Reload(context.Background()))
	assert.True(t, v.HasResourceType("HealthcareService"))

	writeSchema(t, dir, "fhir/HealthcareService.schema.json", `{"type": `)
	assert.Error(t, v.Reload(context.Background()))
	assert.True(t, v.HasResourceType("HealthcareService"), "a failed reload keeps the compiled schemas")
	assert.NoError(t, v.Validate(context.Background(), "", []byte(`{"resourceType": "HealthcareService", "name": "Ward 3"}`)))
}

func TestValidateConcurrentWithReload(t *testing.T) {
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(t, err)
	valid, err := os.ReadFile("../../testdata/fhir-r4-examples/Patient-example.json")
	require.NoError(t, err)
	invalid := []byte(`{"resourceType": "Patient", "birthDate": "1974-13-01"}`)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if err := v.Validate(context.Background(), "Patient", valid); err != nil {
					errs <- err
				}
				if err := v.Validate(context.Background(), "Patient", invalid); err == nil {
					errs <- errors.New("invalid Patient passed")
				}
			}
		})
	}
	wg.Go(func() {
		for range 2 {
			if err := v.Reload(context.Background()); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestValidateRejectsBeforeSchemaPass(t *testing.T) {
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(t, err)
	tests := []struct {
		name     string
		typ      string
		doc      string
		code     sdk.IssueCode
		path     string
		sentinel error
	}{
		{"array", "", `[]`, sdk.CodeStructure, "", sdk.ErrInvalid},
		{"no resourceType", "", `{"id": "a"}`, sdk.CodeRequired, "", sdk.ErrInvalid},
		{"numeric resourceType", "", `{"resourceType": 1}`, sdk.CodeStructure, "/resourceType", sdk.ErrInvalid},
		{"other type", "Patient", `{"resourceType": "Observation"}`, sdk.CodeInvalid, "/resourceType", sdk.ErrInvalid},
		{"unknown type", "", `{"resourceType": "HealthcareService"}`, sdk.CodeNotSupported, "/resourceType", sdk.ErrNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Validate(context.Background(), tc.typ, []byte(tc.doc))
			issue := firstIssue(t, err)
			assert.Equal(t, tc.code, issue.Code)
			assert.Equal(t, tc.path, issue.Path)
			assert.Equal(t, sdk.SourceHub, issue.Source)
			assert.ErrorIs(t, err, tc.sentinel)
		})
	}
}

func TestValidateHonoursCanceledContext(t *testing.T) {
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err = v.Validate(ctx, "", []byte(`{"resourceType": "Patient"}`))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestValidateRequest(t *testing.T) {
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(t, err)
	tests := []struct {
		name    string
		schema  string
		doc     string
		path    string // "" when valid
		message string
	}{
		{"chat", RequestChat, `{"messages": [{"role": "user", "content": "Summarise the last visit"}], "patient": "Patient/123", "stream": true, "temperature": 0.2, "max_tokens": 512}`, "", ""},
		{"chat without messages", RequestChat, `{"model": "m"}`, "", `"messages"`},
		{"chat bad role", RequestChat, `{"messages": [{"role": "tool", "content": "x"}]}`, "/messages/0/role", "not an allowed value"},
		{"chat bad patient", RequestChat, `{"messages": [{"role": "user", "content": "x"}], "patient": "Observation/1"}`, "/patient", "does not match"},
		{"chat temperature", RequestChat, `{"messages": [{"role": "user", "content": "x"}], "temperature": 3}`, "/temperature", "3 is more than the maximum of 2"},
		{"transcription", RequestTranscription, `{"blob": "uploads/visit-42.wav", "content_type": "audio/wav", "language": "en-US", "encounter": "Encounter/7", "async": true}`, "", ""},
		{"transcription parent path", RequestTranscription, `{"blob": "uploads/../secrets"}`, "/blob", "has a form that is not allowed here; expected: Key of an object"},
		{"chat empty content", RequestChat, `{"messages": [{"role": "user", "content": ""}]}`, "/messages/0/content", `"" is 0 characters long, shorter than the minimum of 1`},
		{"chat no messages", RequestChat, `{"messages": []}`, "/messages", "the array has 0 items, fewer than the minimum of 1"},
		{"transcription unknown field", RequestTranscription, `{"blob": "a.wav", "speed": 2}`, "/speed", "unknown element"},
		{"imaging", RequestImagingAnalysis, `{"imaging_study": "ImagingStudy/xr1", "parameters": {"threshold": "0.5"}}`, "", ""},
		{"imaging without input", RequestImagingAnalysis, `{"model": "m"}`, "", `none of the alternatives matches, and any must; fix one: missing required element "blob"; add it, or missing required element "imaging_study"; add it`},
		{"imaging numeric parameter", RequestImagingAnalysis, `{"blob": "a.dcm", "parameters": {"threshold": 0.5}}`, "/parameters/threshold", "expected string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := v.ValidateRequest(context.Background(), tc.schema, []byte(tc.doc))
			if tc.path == "" && tc.message == "" {
				assert.NoError(t, err)
				return
			}
			issue := firstIssue(t, err)
			assert.Equal(t, tc.path, issue.Path)
			assert.Contains(t, issue.Diagnostics, tc.message)
		})
	}

	err = v.ValidateRequest(context.Background(), "nope", []byte(`{}`))
	assert.ErrorIs(t, err, sdk.ErrNotSupported)
}

func TestCompileConfig(t *testing.T) {
	s, err := CompileConfig("storage-s3", []byte(`{
		"type": "object",
		"properties": {
			"bucket": {"type": "string", "minLength": 3},
			"region": {"type": "string"},
			"endpoint": {"type": "string", "format": "uri"},
			"retries": {"type": "integer", "minimum": 0}
		},
		"required": ["bucket"],
		"additionalProperties": false
	}`))
	require.NoError(t, err)

	assert.NoError(t, s.Validate(context.Background(), []byte(`{"bucket": "scans", "endpoint": "https://127.0.0.1:9000", "retries": 3}`)))

	tests := []struct {
		name string
		doc  string
		path string
		code sdk.IssueCode
	}{
		{"missing bucket", `{"region": "eu"}`, "", sdk.CodeRequired},
		{"unknown key", `{"bucket": "scans", "regoin": "eu"}`, "/regoin", sdk.CodeStructure},
		{"bad endpoint", `{"bucket": "scans", "endpoint": "not a uri"}`, "/endpoint", sdk.CodeValue},
		{"negative retries", `{"bucket": "scans", "retries": -1}`, "/retries", sdk.CodeValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issue := firstIssue(t, s.Validate(context.Background(), []byte(tc.doc)))
			assert.Equal(t, tc.path, issue.Path)
			assert.Equal(t, tc.code, issue.Code)
		})
	}

	issue := firstIssue(t, s.Validate(context.Background(), []byte(`{"bucket": "scans", "regoin": "eu"}`)))
	assert.Equal(t, "regoin", issue.Expression)
	assert.Contains(t, issue.Diagnostics, `did you mean "region"?`)
}

func TestCompileConfigErrors(t *testing.T) {
	_, err := CompileConfig("Bad/Name", []byte(`{}`))
	assert.ErrorContains(t, err, "invalid plugin name")

	_, err = CompileConfig("chat-x", []byte(`{"type": `))
	assert.ErrorContains(t, err, `plugin "chat-x"`)

	_, err = CompileConfig("chat-x", []byte(`{"$ref": "other.json"}`))
	assert.ErrorContains(t, err, "not found")
}

func TestStandardFormatsAsserted(t *testing.T) {
	s, err := CompileConfig("ehr-x", []byte(`{
		"type": "object",
		"properties": {
			"since": {"type": "string", "format": "date-time"},
			"contact": {"type": "string", "format": "email"},
			"base": {"type": "string", "format": "uri"}
		}
	}`))
	require.NoError(t, err)

	assert.NoError(t, s.Validate(context.Background(), []byte(`{"since": "2024-01-02T03:04:05Z", "contact": "ops@example.org", "base": "https://127.0.0.1/fhir"}`)))
	tests := []struct{ name, doc, path string }{
		{"date-time", `{"since": "2024-01-02 03:04"}`, "/since"},
		{"email", `{"contact": "ops at example.org"}`, "/contact"},
		{"uri", `{"base": "fhir/relative"}`, "/base"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issue := firstIssue(t, s.Validate(context.Background(), []byte(tc.doc)))
			assert.Equal(t, tc.path, issue.Path)
			assert.Equal(t, sdk.CodeValue, issue.Code)
		})
	}
}

func TestValidateDocumentFromEncodingJSON(t *testing.T) {
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(t, err)
	data, err := os.ReadFile("../../testdata/fhir-r4-examples/Observation-example.json")
	require.NoError(t, err)

	var doc any
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.NoError(t, v.ValidateDocument(context.Background(), "Observation", doc), "float64 numbers validate")

	doc.(map[string]any)["valueQuantity"].(map[string]any)["value"] = "185"
	issue := firstIssue(t, v.ValidateDocument(context.Background(), "Observation", doc))
	assert.Equal(t, "/valueQuantity/value", issue.Path)
}
