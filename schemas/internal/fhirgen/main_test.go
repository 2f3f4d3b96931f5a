package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedSchemasUpToDate fails when the committed schemas differ from
// what the generator writes, such as after a hand edit. Running go generate
// in the schemas directory fixes it.
func TestGeneratedSchemasUpToDate(t *testing.T) {
	official, err := os.ReadFile("../../fhir-r4/fhir.schema.json")
	require.NoError(t, err)
	files, err := generate(official)
	require.NoError(t, err)

	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("../../fhir", name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, string(want), string(got), "%s differs from the generator output", name)
		}
	}
	committed, err := filepath.Glob("../../fhir/*.schema.json")
	require.NoError(t, err)
	assert.Len(t, committed, len(files), "fhir/ has files the generator does not write")
}

func TestGenerateChoiceAndRequired(t *testing.T) {
	official, err := os.ReadFile("../../fhir-r4/fhir.schema.json")
	require.NoError(t, err)
	files, err := generate(official)
	require.NoError(t, err)

	doc, err := parseOrdered(files["MedicationRequest.schema.json"])
	require.NoError(t, err)
	root := doc.(*object)
	choice := root.object("fhirChoice").object("medication[x]")
	require.NotNil(t, choice, "MedicationRequest has the medication[x] choice")
	required, _ := choice.get("required")
	assert.Equal(t, true, required)

	req, _ := root.get("required")
	assert.Contains(t, req, "status", "status is a required primitive")
	assert.Contains(t, req, "subject", "subject is required in the official schema")
	assert.Equal(t, false, root.values["additionalProperties"])
}

func TestGenerateNestedResourcesUseResource(t *testing.T) {
	official, err := os.ReadFile("../../fhir-r4/fhir.schema.json")
	require.NoError(t, err)
	files, err := generate(official)
	require.NoError(t, err)

	doc, err := parseOrdered(files["Bundle.schema.json"])
	require.NoError(t, err)
	entry := doc.(*object).object("$defs").object("Bundle_Entry")
	require.NotNil(t, entry)
	ref := entry.object("properties").object("resource").str("$ref")
	assert.Equal(t, "datatypes.schema.json#/$defs/Resource", ref)
}
