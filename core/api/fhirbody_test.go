package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func TestReadResource(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		id         string
		code       sdk.IssueCode
		path       string
		diagnostic string
	}{
		{"create", `{"resourceType":"Patient","active":true}`, "", "", "", ""},
		{"update", `{"resourceType":"Patient","id":"p1"}`, "p1", "", "", ""},
		{"empty", "  \n", "", sdk.CodeRequired, "", "request body is empty"},
		{"malformed", "{\n  \"resourceType\": \"Patient\",\n  \"active\": tru\n}", "", sdk.CodeStructure, "", "line 3, column"},
		{"truncated", `{"resourceType":"Patient"`, "", sdk.CodeStructure, "", "not valid JSON"},
		{"array", `[{"resourceType":"Patient"}]`, "", sdk.CodeStructure, "", "must be a JSON object"},
		{"resourceType not a string", `{"resourceType":7}`, "", sdk.CodeStructure, "/resourceType", "must be a string"},
		{"no resourceType", `{"active":true}`, "", sdk.CodeRequired, "/resourceType", "no resourceType"},
		{"other type", `{"resourceType":"Observation"}`, "", sdk.CodeInvalid, "/resourceType", `"Observation" does not match the URL`},
		{"update without id", `{"resourceType":"Patient"}`, "p1", sdk.CodeRequired, "/id", "needs the id"},
		{"update with other id", `{"resourceType":"Patient","id":"p2"}`, "p1", sdk.CodeInvalid, "/id", `id "p2" in the resource differs from id "p1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/fhir/Patient", strings.NewReader(tc.body))
			body, err := readResource(r, "Patient", tc.id)
			if tc.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.body, string(body))
				return
			}
			require.Error(t, err)
			issue := sdk.AsOutcome(err).Issues[0]
			assert.Equal(t, tc.code, issue.Code)
			assert.Equal(t, tc.path, issue.Path)
			assert.Contains(t, issue.Diagnostics, tc.diagnostic)
			assert.Equal(t, http.StatusBadRequest, StatusFor(r, err))
		})
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"p1", "a-b.c", strings.Repeat("x", 64), "3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b"} {
		assert.NoError(t, checkID(id), id)
	}
	for _, id := range []string{"", "a b", "a/b", strings.Repeat("x", 65), "ä", "a_b"} {
		assert.Error(t, checkID(id), id)
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\nef")
	line, column := position(data, 4)
	assert.Equal(t, 2, line)
	assert.Equal(t, 2, column)
	line, column = position(data, 0)
	assert.Equal(t, 1, line)
	assert.Equal(t, 1, column)
	line, _ = position(data, 99)
	assert.Equal(t, 3, line)
}
