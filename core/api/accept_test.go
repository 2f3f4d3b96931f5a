package api

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckAccept(t *testing.T) {
	tests := []struct {
		name, target, accept string
		ok                   bool
	}{
		{"no header", "/fhir/Patient", "", true},
		{"FHIR JSON", "/fhir/Patient", "application/fhir+json", true},
		{"plain JSON", "/fhir/Patient", "application/json; charset=utf-8", true},
		{"browser default", "/fhir/Patient", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"XML only", "/fhir/Patient", "application/fhir+xml", false},
		{"JSON refused by q=0", "/fhir/Patient", "application/fhir+json;q=0, application/xml", false},
		{"_format json", "/fhir/Patient?_format=json", "", true},
		{"_format xml", "/fhir/Patient?_format=xml", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			err := checkAccept(r, fhirProduces)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			assert.Error(t, err)
			assert.Equal(t, 406, StatusFor(r, err))
		})
	}
}
