package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type searchset struct {
	Type string `json:"type"`
	Link []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

// reviewDetails returns the entity details of each AuditEvent in a Bundle,
// by detail type.
func reviewDetails(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	var bundle struct {
		Entry []struct {
			Resource struct {
				Entity []struct {
					Detail []struct {
						Type        string `json:"type"`
						ValueString string `json:"valueString"`
					} `json:"detail"`
				} `json:"entity"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(body, &bundle))
	var out []map[string]string
	for _, entry := range bundle.Entry {
		details := map[string]string{}
		for _, entity := range entry.Resource.Entity {
			for _, d := range entity.Detail {
				details[d.Type] = d.ValueString
			}
		}
		out = append(out, details)
	}
	return out
}

func outcomeCodes(t *testing.T, body []byte) (string, []string) {
	t.Helper()
	var outcome struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code    string `json:"code"`
			Details struct {
				Coding []struct {
					Code string `json:"code"`
				} `json:"coding"`
			} `json:"details"`
		} `json:"issue"`
	}
	require.NoError(t, json.Unmarshal(body, &outcome), string(body))
	require.Equal(t, "OperationOutcome", outcome.ResourceType, string(body))
	require.NotEmpty(t, outcome.Issue)
	var rules []string
	for _, issue := range outcome.Issue {
		for _, coding := range issue.Details.Coding {
			rules = append(rules, coding.Code)
		}
	}
	return outcome.Issue[0].Code, rules
}

// TestMainJobOnSyntheaData runs the README's walk-through against a real
// hub serve process with the storage-fs plugin.
func TestMainJobOnSyntheaData(t *testing.T) {
	plugins := builtPlugins(t)
	hub := startHub(t, "HUB_PLUGINS_DIR="+plugins)

	importer := hub.CLI(t, "token", "issue", "--subject", "importer", "--role", "service", "--tenant", "north", "--scope", "system/*.cruds")
	bundles := []string{
		"../../testdata/synthea-companion/practitioners-organizations-locations.json",
		"../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json",
	}
	summary := hub.CLI(t, append(append([]string{"import"}, bundles...), "--url", hub.BaseURL, "--token", importer)...)
	assert.Contains(t, summary, "0 failed")
	assert.Contains(t, summary, "Patient")

	clinician := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.cruds")
	status, body := hub.Call(t, http.MethodGet, "/fhir/Patient?family=Keeling57", clinician, nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var patients searchset
	require.NoError(t, json.Unmarshal(body, &patients))
	require.Len(t, patients.Entry, 1)
	patientID := patients.Entry[0].Resource["id"].(string)

	t.Run("search observations", func(t *testing.T) {
		status, body := hub.Call(t, http.MethodGet, "/fhir/Observation?patient="+patientID+"&_count=5", clinician, nil, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		var page searchset
		require.NoError(t, json.Unmarshal(body, &page))
		assert.Equal(t, "searchset", page.Type)
		assert.Len(t, page.Entry, 5)
		require.Len(t, page.Link, 2)
		assert.Equal(t, "next", page.Link[1].Relation)
		for _, entry := range page.Entry {
			assert.Equal(t, "Patient/"+patientID, entry.Resource["subject"].(map[string]any)["reference"])
		}
	})

	t.Run("billing reads redacted patient", func(t *testing.T) {
		billing := hub.CLI(t, "token", "issue", "--subject", "bill", "--role", "billing", "--tenant", "north", "--scope", "user/*.rs")
		status, body := hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, billing, nil, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		var patient map[string]any
		require.NoError(t, json.Unmarshal(body, &patient))
		assert.NotContains(t, patient, "text", "billing sees no narrative")
		assert.Equal(t, patientID, patient["id"])

		status, body = hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, clinician, nil, nil)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, string(body), `"text"`, "a clinician sees the narrative")
	})

	south := hub.CLI(t, "token", "issue", "--subject", "dr-south", "--role", "clinician", "--tenant", "south", "--scope", "user/*.rs")
	t.Run("other tenant is denied", func(t *testing.T) {
		status, body := hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, south, map[string]string{"X-Tenant": "north"}, nil)
		assert.Equal(t, http.StatusForbidden, status)
		code, rules := outcomeCodes(t, body)
		assert.Equal(t, "forbidden", code)
		assert.Contains(t, rules, "tenant.mismatch")

		status, _ = hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, south, nil, nil)
		assert.Equal(t, http.StatusNotFound, status, "in its own tenant the patient does not exist")
	})

	t.Run("break the glass", func(t *testing.T) {
		status, body := hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, south, map[string]string{"X-Tenant": "north", "X-Break-Glass-Reason": "urgent"}, nil)
		assert.Equal(t, http.StatusForbidden, status)
		_, rules := outcomeCodes(t, body)
		assert.Contains(t, rules, "break_glass.reason")

		reason := "patient unconscious in the emergency department, transferred without records"
		status, body = hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, south, map[string]string{"X-Tenant": "north", "X-Break-Glass-Reason": reason}, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		assert.Contains(t, string(body), patientID)
	})

	t.Run("consent opt-out takes effect at once", func(t *testing.T) {
		headers := map[string]string{"X-Purpose-Of-Use": "HPAYMT"}
		status, body := hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, clinician, headers, nil)
		require.Equal(t, http.StatusOK, status, string(body))

		admin := hub.CLI(t, "token", "issue", "--subject", "registrar", "--role", "admin", "--tenant", "north", "--scope", "user/*.cruds")
		consent := `{"resourceType":"Consent","status":"active",
			"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
			"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
			"patient":{"reference":"Patient/` + patientID + `"},
			"provision":{"type":"deny","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}]}}`
		status, body = hub.Call(t, http.MethodPost, "/fhir/Consent", admin, nil, []byte(consent))
		require.Equal(t, http.StatusCreated, status, string(body))

		status, body = hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, clinician, headers, nil)
		assert.Equal(t, http.StatusForbidden, status, string(body))
		status, _ = hub.Call(t, http.MethodGet, "/fhir/Patient/"+patientID, clinician, map[string]string{"X-Purpose-Of-Use": "TREAT"}, nil)
		assert.Equal(t, http.StatusOK, status, "the opt-out is for payment only")
	})

	t.Run("audit trail", func(t *testing.T) {
		admin := hub.CLI(t, "token", "issue", "--subject", "auditor", "--role", "admin", "--tenant", "north", "--scope", "user/*.rs")
		status, body := hub.Call(t, http.MethodGet, "/v1/audit?patient="+patientID+"&_count=1000", admin, nil, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		assert.Contains(t, string(body), "dr-south", "the break-glass read is recorded")
		assert.Contains(t, string(body), "bill")

		status, body = hub.Call(t, http.MethodGet, "/v1/audit?patient="+patientID+"&review=true", admin, nil, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		flagged := reviewDetails(t, body)
		require.Len(t, flagged, 1, "only the break-glass read is flagged for review")
		assert.Equal(t, "high", flagged[0]["audit-level"])
		assert.Equal(t, "true", flagged[0]["review"])
		assert.Equal(t, "south", flagged[0]["subject-tenant"], "the reviewer sees where the subject comes from")
		assert.Equal(t, "patient unconscious in the emergency department, transferred without records", flagged[0]["break-glass-reason"])
		assert.Regexp(t, `^[0-9a-f]{64}$`, flagged[0]["policy-revision"], "the policy set that decided")
		assert.Contains(t, string(body), `"role":[{"text":"clinician"}]`, "the role the subject acted in")

		status, body = hub.Call(t, http.MethodGet, "/v1/audit?patient="+patientID+"&level=high", admin, nil, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		reasons := map[string]string{}
		for _, details := range reviewDetails(t, body) {
			if reason := details["break-glass-reason"]; reason != "" {
				reasons[reason] = details["decision"]
			}
		}
		assert.Equal(t, map[string]string{"urgent": "deny", "patient unconscious in the emergency department, transferred without records": "allow"}, reasons,
			"level=high lists the refused break-glass attempt too")

		hub.Stop(t)
		verify := exec.Command(hubBinary, "audit", "verify", "--data-dir", hub.DataDir)
		output, err := verify.CombinedOutput()
		require.NoError(t, err, string(output))
	})
	assert.NotContains(t, hub.Logs(), `"status":500`)
	assert.NotContains(t, hub.Logs(), "Keeling57", "no patient name in any log line")
}

// TestBadRequestsGetOperationOutcomes sends malformed and unauthorised
// requests to a real hub: each gets its status and an OperationOutcome,
// and none a 500.
func TestBadRequestsGetOperationOutcomes(t *testing.T) {
	plugins := builtPlugins(t)
	hub := startHub(t, "HUB_PLUGINS_DIR="+plugins, "HUB_LIMITS_MAX_BODY_SIZE=64KiB")
	north := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.cruds")
	south := hub.CLI(t, "token", "issue", "--subject", "dr-south", "--role", "clinician", "--tenant", "south", "--scope", "user/*.cruds")
	status, body := hub.Call(t, http.MethodPost, "/fhir/Patient", north, nil, []byte(`{"resourceType":"Patient","name":[{"family":"Okafor"}]}`))
	require.Equal(t, http.StatusCreated, status, string(body))
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	id := created["id"].(string)

	huge := []byte(`{"resourceType":"Patient","name":[{"family":"` + strings.Repeat("x", 70_000) + `"}]}`)
	tests := []struct {
		name        string
		method      string
		path        string
		credential  string
		headers     map[string]string
		body        []byte
		contentType string
		status      int
		code        string
	}{
		{"malformed json", http.MethodPost, "/fhir/Patient", north, nil, []byte(`{"resourceType":"Patient",`), "", 400, "structure"},
		{"wrong content type", http.MethodPost, "/fhir/Patient", north, nil, []byte(`<Patient/>`), "application/xml", 415, "not-supported"},
		{"huge body", http.MethodPost, "/fhir/Patient", north, nil, huge, "", 413, "too-long"},
		{"unknown resource type", http.MethodGet, "/fhir/Spaceship/1", north, nil, nil, "", 404, "not-found"},
		{"id differs from url", http.MethodPut, "/fhir/Patient/" + id, north, nil, []byte(`{"resourceType":"Patient","id":"other"}`), "", 400, "invalid"},
		{"invalid resource", http.MethodPost, "/fhir/Patient", north, nil, []byte(`{"resourceType":"Patient","birthDate":"1974-13-01"}`), "", 400, "value"},
		{"missing token", http.MethodGet, "/fhir/Patient/" + id, "", nil, nil, "", 401, "login"},
		{"expired token", http.MethodGet, "/fhir/Patient/" + id, expiredToken(t, hub.DataDir), nil, nil, "", 401, "login"},
		{"token of another tenant", http.MethodGet, "/fhir/Patient/" + id, south, map[string]string{"X-Tenant": "north"}, nil, "", 403, "forbidden"},
		{"version conflict", http.MethodPut, "/fhir/Patient/" + id, north, map[string]string{"If-Match": `W/"9"`}, []byte(`{"resourceType":"Patient","id":"` + id + `"}`), "", 412, "conflict"},
		{"unknown id", http.MethodGet, "/fhir/Patient/does-not-exist", north, nil, nil, "", 404, "not-found"},
		{"searchset posted as transaction", http.MethodPost, "/fhir", north, nil, []byte(`{"resourceType":"Bundle","type":"searchset"}`), "", 400, "invalid"},
		{"transaction with a denied entry", http.MethodPost, "/fhir", north, map[string]string{"X-Tenant": "north"}, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"fullUrl":"urn:uuid:8f0b5c3e-4d0e-4a4b-9b1e-2f4b7b0e6a11","resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
			{"request":{"method":"DELETE","url":"Patient/` + id + `"}}]}`), "", 403, "forbidden"},
		{"entry without request", http.MethodPost, "/fhir", north, nil, []byte(`{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient"}}]}`), "", 400, "required"},
		{"bad search parameter", http.MethodGet, "/fhir/Patient?shoe-size=9", north, nil, nil, "", 400, "invalid"},
		{"XML requested", http.MethodGet, "/fhir/Patient/" + id, north, map[string]string{"Accept": "application/fhir+xml"}, nil, "", 406, "not-supported"},
		{"XML _format", http.MethodGet, "/fhir/Patient/" + id + "?_format=xml", north, nil, nil, "", 406, "not-supported"},
		{"type history", http.MethodGet, "/fhir/Patient/_history", north, nil, nil, "", 501, "not-supported"},
		{"bad _count", http.MethodGet, "/fhir/Patient/" + id + "/_history?_count=-1", north, nil, nil, "", 400, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := map[string]string{}
			for k, v := range tc.headers {
				headers[k] = v
			}
			if tc.contentType != "" {
				headers["Content-Type"] = tc.contentType
			}
			status, body := hub.Call(t, tc.method, tc.path, tc.credential, headers, tc.body)
			assert.Equal(t, tc.status, status, string(body))
			code, _ := outcomeCodes(t, body)
			assert.Equal(t, tc.code, code, string(body))
		})
	}
	assert.NotContains(t, hub.Logs(), `"status":500`)
	assert.NotContains(t, hub.Logs(), "panic")

	status, metrics := hub.Call(t, http.MethodGet, "/metrics", "", nil, nil)
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{
		`healthhub_schema_validation_failures_total{resource_type="Patient"}`,
		`healthhub_policy_decision_duration_seconds_count{result="allow"}`,
		`healthhub_policy_decision_duration_seconds_count{result="deny"}`,
		`healthhub_audit_appends_total{result="ok"}`,
		`healthhub_http_request_duration_seconds_count{code="413",method="POST",route="POST /fhir/{type}"}`,
	} {
		assert.Contains(t, string(metrics), want)
	}
}

// TestResourceLifecycle creates, updates, reads versions of and deletes a
// resource through a real hub, and reads the CapabilityStatement.
func TestResourceLifecycle(t *testing.T) {
	hub := startHub(t, "HUB_PLUGINS_DIR="+builtPlugins(t))
	admin := hub.CLI(t, "token", "issue", "--subject", "registrar", "--role", "admin", "--tenant", "north", "--scope", "user/*.cruds")

	status, body := hub.Call(t, http.MethodGet, "/fhir/metadata", "", nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Contains(t, string(body), `"resourceType":"CapabilityStatement"`)
	assert.Contains(t, string(body), `"type":"Patient"`)
	assert.Contains(t, string(body), `"code":"transaction"`)

	status, body = hub.Call(t, http.MethodPost, "/fhir/Organization", admin, nil, []byte(`{"resourceType":"Organization","name":"North Clinic"}`))
	require.Equal(t, http.StatusCreated, status, string(body))
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	id := created["id"].(string)
	path := "/fhir/Organization/" + id

	update := []byte(`{"resourceType":"Organization","id":"` + id + `","name":"North Clinic and Lab"}`)
	status, body = hub.Call(t, http.MethodPut, path, admin, map[string]string{"If-Match": `W/"1"`}, update)
	require.Equal(t, http.StatusOK, status, string(body))
	status, _ = hub.Call(t, http.MethodPut, path, admin, map[string]string{"If-Match": `W/"1"`}, update)
	assert.Equal(t, http.StatusPreconditionFailed, status, "version 1 is no longer current")

	status, body = hub.Call(t, http.MethodGet, path+"/_history", admin, nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var history searchset
	require.NoError(t, json.Unmarshal(body, &history))
	assert.Equal(t, "history", history.Type)
	assert.Len(t, history.Entry, 2)

	status, body = hub.Call(t, http.MethodGet, path+"/_history/1", admin, nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Contains(t, string(body), `"name":"North Clinic"`)

	status, _ = hub.Call(t, http.MethodDelete, path, admin, nil, nil)
	assert.Equal(t, http.StatusNoContent, status)
	status, body = hub.Call(t, http.MethodGet, path, admin, nil, nil)
	assert.Equal(t, http.StatusGone, status, string(body))
}

// TestBlobsThroughStoragePlugin stores an attachment through the
// storage-fs plugin and reads it back; another tenant cannot see it.
func TestBlobsThroughStoragePlugin(t *testing.T) {
	hub := startHub(t, "HUB_PLUGINS_DIR="+builtPlugins(t))
	north := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.cruds")
	south := hub.CLI(t, "token", "issue", "--subject", "dr-south", "--role", "clinician", "--tenant", "south", "--scope", "user/*.cruds")
	attachment, err := os.ReadFile("../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
	require.NoError(t, err)

	status, body := hub.Call(t, http.MethodPost, "/v1/blobs", north, map[string]string{"Content-Type": "application/octet-stream"}, attachment)
	require.Equal(t, http.StatusCreated, status, string(body))
	var blob struct {
		ID     string `json:"id"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	require.NoError(t, json.Unmarshal(body, &blob))
	assert.Equal(t, int64(len(attachment)), blob.Size)
	assert.Len(t, blob.SHA256, 64)

	status, body = hub.Call(t, http.MethodGet, "/v1/blobs/"+blob.ID, north, nil, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, attachment, body, "the attachment comes back byte for byte")

	status, _ = hub.Call(t, http.MethodGet, "/v1/blobs/"+blob.ID, south, nil, nil)
	assert.Equal(t, http.StatusNotFound, status, "blobs are kept per tenant")
	status, _ = hub.Call(t, http.MethodGet, "/v1/blobs/not-a-blob-id", north, nil, nil)
	assert.Equal(t, http.StatusNotFound, status)
}

// TestImportNDJSONIntoHub imports an NDJSON export with hub import: the
// resources keep their ids, and a bad line is reported without stopping
// the rest.
func TestImportNDJSONIntoHub(t *testing.T) {
	hub := startHub(t, "HUB_PLUGINS_DIR="+builtPlugins(t))
	importer := hub.CLI(t, "token", "issue", "--subject", "importer", "--role", "service", "--tenant", "north", "--scope", "system/*.cruds")
	export := filepath.Join(t.TempDir(), "Patient.ndjson")
	lines := `{"resourceType":"Patient","id":"nd-1","name":[{"family":"Adeyemi"}]}
{"resourceType":"Patient","id":"nd-2","birthDate":"1974-13-01"}
{"resourceType":"Patient","id":"nd-3","name":[{"family":"Brandt"}]}
`
	require.NoError(t, os.WriteFile(export, []byte(lines), 0o600))

	cmd := exec.Command(hubBinary, "import", export, "--url", hub.BaseURL, "--token", importer)
	output, err := cmd.Output()
	var exitErr *exec.ExitError
	require.True(t, errors.As(err, &exitErr), "one invalid line makes the import fail: %v", err)
	assert.Equal(t, 1, exitErr.ExitCode())
	assert.Contains(t, string(output), "2 created, 0 already present or updated, 1 failed")
	assert.Contains(t, string(output), "resource 2 of the batch from line 1")

	reader := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.rs")
	status, body := hub.Call(t, http.MethodGet, "/fhir/Patient/nd-3", reader, nil, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Contains(t, string(body), "Brandt")
}

// A restarted hub continues a break-glass session from its recorded start,
// so restarting does not extend a break-glass beyond its maximum duration.
func TestBreakGlassSurvivesRestart(t *testing.T) {
	const maxDuration = 2 * time.Second
	env := "HUB_POLICY_BREAK_GLASS_MAX_DURATION=" + maxDuration.String()
	hub := startHub(t, env)
	admin := hub.CLI(t, "token", "issue", "--subject", "registrar", "--role", "admin", "--tenant", "north", "--scope", "user/*.cruds")
	status, body := hub.Call(t, http.MethodPost, "/fhir/Patient", admin, nil, []byte(`{"resourceType":"Patient","name":[{"family":"Restart"}]}`))
	require.Equal(t, http.StatusCreated, status, string(body))
	var patient map[string]any
	require.NoError(t, json.Unmarshal(body, &patient))
	path := "/fhir/Patient/" + patient["id"].(string)

	south := hub.CLI(t, "token", "issue", "--subject", "dr-south", "--role", "clinician", "--tenant", "south", "--scope", "user/*.rs")
	headers := map[string]string{"X-Tenant": "north", "X-Break-Glass-Reason": "patient unconscious in the emergency department, no records"}
	started := time.Now()
	status, body = hub.Call(t, http.MethodGet, path, south, headers, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	hub.Stop(t)

	// Wait out the maximum duration, counted from before the first read.
	time.Sleep(time.Until(started.Add(maxDuration + 500*time.Millisecond)))
	restarted := startHubIn(t, hub.DataDir, env)
	status, body = restarted.Call(t, http.MethodGet, path, south, headers, nil)
	assert.Equal(t, http.StatusForbidden, status, string(body))
	_, rules := outcomeCodes(t, body)
	assert.Contains(t, rules, "break_glass.expired")
}
