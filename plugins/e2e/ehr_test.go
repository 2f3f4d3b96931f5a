package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedFHIR creates a resource on the test FHIR server and returns its id.
func seedFHIR(t *testing.T, baseURL string, resource map[string]any) string {
	t.Helper()
	body, err := json.Marshal(resource)
	require.NoError(t, err)
	resp, err := http.Post(baseURL+"/"+resource["resourceType"].(string), "application/fhir+json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var created struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))
	return created.ID
}

func TestEHRImportStoresRecordAcrossPages(t *testing.T) {
	plugins := providerPlugins(t)
	vendors := startVendors(t)
	patient := canaryPatient(t)
	externalID := seedFHIR(t, vendors.fhir.BaseURL(), patient)
	observations := syntheaResources(t, "Observation")[:12]
	for _, observation := range observations {
		delete(observation, "id")
		delete(observation, "encounter")
		observation["subject"] = map[string]any{"reference": "Patient/" + externalID}
		seedFHIR(t, vendors.fhir.BaseURL(), observation)
	}

	hub := startConfiguredHub(t, t.TempDir(), vendors.hubConfig(t, plugins), vendors.proxy.URL)
	service := hub.CLI(t, "token", "issue", "--subject", "feed", "--role", "service", "--tenant", "north", "--scope", "system/*.cruds")
	status, resp := hub.Call(t, http.MethodPost, "/v1/ehr/ehr-fhir/import", service, map[string]string{"Content-Type": "application/json"}, []byte(`{"patient":"`+externalID+`"}`))
	require.Equal(t, http.StatusAccepted, status, string(resp))
	job := waitJob(t, hub, service, resp)
	require.Equal(t, "succeeded", job.Status, "errors: %s", job.Errors)
	assert.Equal(t, 13, job.Progress.Done, "the Patient and its 12 Observations")
	require.Len(t, job.Resources, 13)

	var hubPatient string
	for _, resource := range job.Resources {
		if resource["resourceType"] == "Patient" {
			hubPatient = "Patient/" + resource["id"].(string)
		}
	}
	require.NotEmpty(t, hubPatient)
	for _, resource := range job.Resources {
		if resource["resourceType"] == "Observation" {
			assert.Equal(t, hubPatient, resource["subject"].(map[string]any)["reference"], "references follow the imported Patient")
		}
	}
	searches := vendors.proxy.recordsFor("/fhir/Observation")
	assert.GreaterOrEqual(t, len(searches), 3, "12 Observations at 5 a page take three requests")
	for _, search := range searches {
		line, _, _ := strings.Cut(search, "\r\n")
		assert.True(t, strings.HasPrefix(line, "GET "), "an import only reads the external system: %s", line)
	}

	status, body := hub.Call(t, http.MethodPost, "/v1/ehr/no-such/import", service, map[string]string{"Content-Type": "application/json"}, []byte(`{"patient":"1"}`))
	assert.Equal(t, http.StatusNotFound, status, string(body))
	status, body = hub.Call(t, http.MethodPost, "/v1/ehr/ehr-fhir/import", service, map[string]string{"Content-Type": "application/json"}, []byte(`{"patient":"../x"}`))
	assert.Equal(t, http.StatusBadRequest, status, string(body))
}
