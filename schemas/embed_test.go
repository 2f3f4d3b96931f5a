package schemas

import (
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamedDocumentsExist(t *testing.T) {
	for _, path := range []string{DatatypesPath, OfficialR4Path, ChatRequestPath, TranscriptionRequestPath, ImagingAnalysisRequestPath, HubCommonPath} {
		t.Run(path, func(t *testing.T) {
			data, err := FS.ReadFile(path)
			require.NoError(t, err)
			assert.True(t, json.Valid(data), "%s is valid JSON", path)
		})
	}
}

func TestEmbeddedDocumentsDeclareDialect(t *testing.T) {
	fhirPaths, err := fs.Glob(FS, "fhir/*.schema.json")
	require.NoError(t, err)
	hubPaths, err := fs.Glob(FS, "hub/*.schema.json")
	require.NoError(t, err)
	paths := append(fhirPaths, hubPaths...)
	require.Len(t, paths, 29+4)

	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			data, err := FS.ReadFile(path)
			require.NoError(t, err)
			var doc struct {
				Schema string `json:"$schema"`
			}
			require.NoError(t, json.Unmarshal(data, &doc))
			assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc.Schema)
		})
	}
}
