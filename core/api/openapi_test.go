package api

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from core/api/openapi.json")

const docsCopy = "../../docs/openapi.json"

// documentedOperations lists "METHOD /path" for every operation in the
// OpenAPI document.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPIDocument, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3.1."), "version %q", doc.OpenAPI)

	var operations []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				operations = append(operations, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(operations)
	return operations
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t, Config{})
	h.server.RegisterPlugins(nil)
	h.server.RegisterPolicy(nil)
	h.server.RegisterPipeline(&Pipeline{})
	var registered []string
	for _, route := range h.server.Routes() {
		registered = append(registered, route.Pattern())
	}
	slices.Sort(registered)
	documented := documentedOperations(t)

	for _, route := range registered {
		assert.Contains(t, documented, route, "route %s is not in openapi.json", route)
	}
	for _, operation := range documented {
		assert.Contains(t, registered, operation, "openapi.json documents %s, which no route serves", operation)
	}
}

func TestOpenAPIServedAndCopiedToDocs(t *testing.T) {
	if *update {
		require.NoError(t, os.WriteFile(docsCopy, openAPIDocument, 0o644))
	}
	docs, err := os.ReadFile(docsCopy)
	require.NoError(t, err)
	assert.Equal(t, string(openAPIDocument), string(docs), "docs/openapi.json is stale: run go test ./core/api -run OpenAPI -update")

	h := newHarness(t, Config{})
	rec := h.do(httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.True(t, json.Valid(rec.Body.Bytes()))
	assert.Equal(t, string(openAPIDocument), rec.Body.String())
}
