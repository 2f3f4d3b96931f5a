package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runHubStdin runs the hub command line with stdin as standard input.
func runHubStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func TestValidateCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	invalid := filepath.Join(dir, "invalid.json")
	require.NoError(t, os.WriteFile(invalid, []byte(`{"resourceType": "Patient", "birthDate": "1974-13-01"}`), 0o644))
	patient := "../../testdata/fhir-r4-examples/Patient-example.json"
	bundle := "../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json"

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"valid files", []string{"validate", patient, bundle}, ExitOK},
		{"valid strict", []string{"validate", "--strict", patient}, ExitOK},
		{"valid with type", []string{"validate", "--type", "Patient", patient}, ExitOK},
		{"wrong type", []string{"validate", "--type", "Observation", patient}, ExitFailure},
		{"one invalid", []string{"validate", patient, invalid}, ExitFailure},
		{"missing file", []string{"validate", patient, filepath.Join(dir, "missing.json")}, ExitUsage},
		{"missing file wins over invalid", []string{"validate", invalid, filepath.Join(dir, "missing.json")}, ExitUsage},
		{"no files", []string{"validate"}, ExitUsage},
		{"unknown flag", []string{"validate", "--nope", patient}, ExitUsage},
		{"unknown type flag", []string{"validate", "--type", "Nope", patient}, ExitUsage},
		{"missing schema dir", []string{"validate", "--schema-dir", filepath.Join(dir, "none"), patient}, ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runHubStdin(t, "", tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
		})
	}
}

func TestValidateCommandPrintsOperationOutcome(t *testing.T) {
	code, stdout, stderr := runHubStdin(t, `{"resourceType": "Patient", "birthDate": "1974-13-01", "gendr": "male"}`, "validate", "-")

	require.Equal(t, ExitFailure, code)
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity    string   `json:"severity"`
			Code        string   `json:"code"`
			Diagnostics string   `json:"diagnostics"`
			Location    []string `json:"location"`
			Expression  []string `json:"expression"`
		} `json:"issue"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &oo))
	assert.Equal(t, "OperationOutcome", oo.ResourceType)
	require.Len(t, oo.Issue, 2)
	assert.Equal(t, []string{"/birthDate"}, oo.Issue[0].Location)
	assert.Equal(t, []string{"Patient.birthDate"}, oo.Issue[0].Expression)
	assert.Contains(t, oo.Issue[0].Diagnostics, "not a valid FHIR date")
	assert.Equal(t, []string{"/gendr"}, oo.Issue[1].Location)
	assert.Equal(t, "structure", oo.Issue[1].Code)
	assert.Contains(t, stderr, "-: invalid: Patient.birthDate")
	assert.Contains(t, stderr, "(and 1 more issue)")
}

func TestValidateCommandOutcomePerInvalidFile(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, doc := range []string{
		`{"resourceType": "Patient", "gender": "M"}`,
		`{"resourceType": "Patient"}`,
		`{"resourceType": "Observation", "status": "final"}`,
	} {
		f := filepath.Join(dir, string(rune('a'+i))+".json")
		require.NoError(t, os.WriteFile(f, []byte(doc), 0o644))
		files = append(files, f)
	}

	code, stdout, _ := runHubStdin(t, "", append([]string{"validate"}, files...)...)

	assert.Equal(t, ExitFailure, code)
	dec := json.NewDecoder(strings.NewReader(stdout))
	n := 0
	for dec.More() {
		var oo map[string]any
		require.NoError(t, dec.Decode(&oo))
		assert.Equal(t, "OperationOutcome", oo["resourceType"])
		n++
	}
	assert.Equal(t, 2, n, "one OperationOutcome per invalid file")
}
