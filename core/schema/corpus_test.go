package schema

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the expected issues of the invalid corpus from the current output")

// corpusExpectation is the content of <case>.expected.json beside each
// invalid case.
type corpusExpectation struct {
	// Type is the resource type passed to Validate; "" validates as the
	// type the document names.
	Type string `json:"type,omitempty"`
	// Issues are the issues of the default mode.
	Issues []sdk.Issue `json:"issues"`
	// StrictIssues are the issues of strict mode.
	StrictIssues []sdk.Issue `json:"strictIssues"`
}

func newValidators(t testing.TB) (def, strict *Validator) {
	t.Helper()
	def, err := New(context.Background(), Config{}, nil)
	require.NoError(t, err)
	strict, err = New(context.Background(), Config{Strict: true}, nil)
	require.NoError(t, err)
	return def, strict
}

func outcomeIssues(t *testing.T, err error) []sdk.Issue {
	t.Helper()
	if err == nil {
		return nil
	}
	o, ok := err.(*sdk.Outcome)
	require.True(t, ok, "error is an *sdk.Outcome: %v", err)
	return o.Issues
}

func TestInvalidCorpus(t *testing.T) {
	def, strict := newValidators(t)
	cases, err := filepath.Glob("../../testdata/schema/invalid/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, cases)

	for _, file := range cases {
		if strings.HasSuffix(file, ".expected.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			expectedFile := strings.TrimSuffix(file, ".json") + ".expected.json"
			var want corpusExpectation
			if raw, err := os.ReadFile(expectedFile); err == nil {
				require.NoError(t, json.Unmarshal(raw, &want))
			} else {
				require.True(t, *update, "missing %s; run the test with -update to write it", expectedFile)
			}

			got := corpusExpectation{
				Type:         want.Type,
				Issues:       outcomeIssues(t, def.Validate(context.Background(), want.Type, data)),
				StrictIssues: outcomeIssues(t, strict.Validate(context.Background(), want.Type, data)),
			}
			if *update {
				out, err := json.MarshalIndent(got, "", "  ")
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(expectedFile, append(out, '\n'), 0o644))
				return
			}

			assert.NotEmpty(t, got.Issues, "an invalid case fails in the default mode")
			assert.Equal(t, want.Issues, got.Issues, "default mode")
			assert.Equal(t, want.StrictIssues, got.StrictIssues, "strict mode")
		})
	}
}

func TestValidCorpus(t *testing.T) {
	def, strict := newValidators(t)
	cases, err := filepath.Glob("../../testdata/schema/valid/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, cases)

	for _, file := range cases {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.NoError(t, def.Validate(context.Background(), "", data), "default mode")
			assert.NoError(t, strict.Validate(context.Background(), "", data), "strict mode")
		})
	}
}

func TestDecimalsKeepExactText(t *testing.T) {
	def, _ := newValidators(t)
	data, err := os.ReadFile("../../testdata/schema/valid/decimal-exact-text.json")
	require.NoError(t, err)

	doc, err := Parse(data)
	require.NoError(t, err)
	require.NoError(t, def.ValidateDocument(context.Background(), "Observation", doc))

	obs := doc.(map[string]any)
	value := obs["valueQuantity"].(map[string]any)["value"]
	assert.Equal(t, json.Number("1.10"), value)
	rangeItem := obs["referenceRange"].([]any)[0].(map[string]any)
	assert.Equal(t, json.Number("6"), rangeItem["low"].(map[string]any)["value"])
	assert.Equal(t, json.Number("1.2E+2"), rangeItem["high"].(map[string]any)["value"])
	ext := obs["extension"].([]any)[0].(map[string]any)
	assert.Equal(t, json.Number("12345678901234567890.123456789012345678"), ext["valueDecimal"])

	out, err := json.Marshal(doc)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"value":1.10`)
	assert.Contains(t, string(out), `"value":1.2E+2`)
	assert.Contains(t, string(out), `12345678901234567890.123456789012345678`)
}

func TestRealExamplesValidate(t *testing.T) {
	def, strict := newValidators(t)
	files, err := filepath.Glob("../../testdata/fhir-r4-examples/*.json")
	require.NoError(t, err)
	synthea, err := filepath.Glob("../../testdata/synthea-r4/*.json")
	require.NoError(t, err)
	files = append(files, synthea...)
	require.Len(t, files, 15)

	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.NoError(t, def.Validate(context.Background(), "", data), "default mode")
			assert.NoError(t, strict.Validate(context.Background(), "", data), "strict mode")
		})
	}
}
