package daemon

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/plugin"
)

func TestPluginConfigPutsObjectsInDataDir(t *testing.T) {
	cfg := &config.Config{DataDir: "/srv/hub"}
	got := pluginConfig(cfg)
	assert.JSONEq(t, `{"root":"`+filepath.Join("/srv/hub", "objects")+`"}`, string(got.Plugins["storage-fs"]))
	assert.Nil(t, cfg.Plugins.Plugins, "the caller's configuration is unchanged")

	cfg.Plugins = plugin.Config{Plugins: map[string]json.RawMessage{"storage-fs": json.RawMessage(`{"root":"/mnt/objects"}`), "llm-openai": json.RawMessage(`{}`)}}
	got = pluginConfig(cfg)
	require.Len(t, got.Plugins, 2)
	assert.JSONEq(t, `{"root":"/mnt/objects"}`, string(got.Plugins["storage-fs"]), "an explicit setting wins")
}

func TestAuditTrailInOwnSQLiteFile(t *testing.T) {
	var dataDir string
	h := newInProcessHub(t, func(cfg *config.Config) { dataDir = cfg.DataDir })
	status, body := h.do(t, http.MethodPost, "/fhir/Patient", "application/fhir+json", []byte(`{"resourceType":"Patient","name":[{"family":"Okafor"}]}`))
	require.Equal(t, http.StatusCreated, status, string(body))

	assert.Equal(t, 0, countRows(t, filepath.Join(dataDir, "hub.db"), "audit_events"), "no audit events in the store's file")
	assert.Positive(t, countRows(t, filepath.Join(dataDir, "audit.db"), "audit_events"))
}

// countRows returns the rows of table in the SQLite file at path, or 0 when
// the file has no such table.
func countRows(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&tables))
	if tables == 0 {
		return 0
	}
	var rows int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM `+table).Scan(&rows))
	return rows
}

func TestReadinessChecksDatabases(t *testing.T) {
	h := newInProcessHub(t)
	status, body := h.do(t, http.MethodGet, "/readyz", "", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var ready struct {
		Checks map[string]string `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(body, &ready))
	assert.Equal(t, "ok", ready.Checks["store"])
	assert.Equal(t, "ok", ready.Checks["audit"])

	require.NoError(t, h.daemon.pipeline.Store.Close())
	status, body = h.do(t, http.MethodGet, "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, status, string(body))
	require.NoError(t, json.Unmarshal(body, &ready))
	assert.Equal(t, "failing", ready.Checks["store"])
	assert.Equal(t, "ok", ready.Checks["audit"])
}

func TestBatchErrorsNameTheClientsEntry(t *testing.T) {
	h := newInProcessHub(t)
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
		{"resource":{"resourceType":"Patient","gender":"unknown-value"},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Patient","name":[{"family":"Okafor"}]},"request":{"method":"POST","url":"Patient"}},
		{"request":{"method":"GET","url":"Patient/does-not-exist"}}]}`
	status, body := h.do(t, http.MethodPost, "/fhir", "application/fhir+json", []byte(batch))
	require.Equal(t, http.StatusOK, status, string(body))

	var response struct {
		Entry []struct {
			Response struct {
				Status  string `json:"status"`
				Outcome struct {
					Issue []struct {
						Diagnostics string   `json:"diagnostics"`
						Location    []string `json:"location"`
					} `json:"issue"`
				} `json:"outcome"`
			} `json:"response"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(body, &response))
	require.Len(t, response.Entry, 3)
	assert.True(t, strings.HasPrefix(response.Entry[0].Response.Status, "400"))
	assert.True(t, strings.HasPrefix(response.Entry[1].Response.Status, "201"))
	missing := response.Entry[2].Response
	assert.True(t, strings.HasPrefix(missing.Status, "404"), missing.Status)
	require.NotEmpty(t, missing.Outcome.Issue)
	assert.True(t, strings.HasPrefix(missing.Outcome.Issue[0].Diagnostics, "entry 2: "), missing.Outcome.Issue[0].Diagnostics)
	assert.Equal(t, []string{"/entry/2"}, missing.Outcome.Issue[0].Location, string(body))
}

// Every search parameter the CapabilityStatement lists is one the search
// accepts, so clients that read it first build only valid searches.
func TestCapabilityStatementListsServedParameters(t *testing.T) {
	h := newInProcessHub(t, func(cfg *config.Config) { cfg.Limits.RateLimit.Disabled = true })
	status, body := h.do(t, http.MethodGet, "/fhir/metadata", "", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var statement struct {
		Rest []struct {
			Resource []struct {
				Type        string `json:"type"`
				SearchParam []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"searchParam"`
			} `json:"resource"`
		} `json:"rest"`
	}
	require.NoError(t, json.Unmarshal(body, &statement))
	require.NotEmpty(t, statement.Rest)

	samples := map[string]string{"token": "x", "reference": "Patient/x", "string": "x", "date": "2020"}
	listed := map[string][]string{}
	for _, resource := range statement.Rest[0].Resource {
		for _, param := range resource.SearchParam {
			listed[resource.Type] = append(listed[resource.Type], param.Name)
			sample, ok := samples[param.Type]
			require.True(t, ok, "%s.%s has unknown type %q", resource.Type, param.Name, param.Type)
			status, body := h.do(t, http.MethodGet, "/fhir/"+resource.Type+"?"+param.Name+"="+sample, "", nil)
			// The policy may deny a clinician some types (403); the
			// parameter itself must not be rejected (400).
			assert.Contains(t, []int{http.StatusOK, http.StatusForbidden}, status, "%s?%s: %s", resource.Type, param.Name, body)
		}
	}
	assert.Contains(t, listed["Patient"], "birthdate")
	assert.NotContains(t, listed["Patient"], "date", "Patient has birthdate, not date")
	assert.Contains(t, listed["Encounter"], "period")
}

// The audit event of a Patient created in a transaction names the id the
// hub assigned, not the id in the client's body, so that the patient's
// accounting of disclosures includes it.
func TestTransactionPatientAuditedUnderAssignedID(t *testing.T) {
	h := newInProcessHub(t)
	transaction := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b","resource":{"resourceType":"Patient","id":"3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b","name":[{"family":"Okafor"}]},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":"urn:uuid:3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b"}},"request":{"method":"POST","url":"Observation"}}]}`
	status, body := h.do(t, http.MethodPost, "/fhir", "application/fhir+json", []byte(transaction))
	require.Equal(t, http.StatusOK, status, string(body))
	var response struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(body, &response))
	require.Len(t, response.Entry, 2)
	patientID := strings.Split(response.Entry[0].Response.Location, "/")[1]
	require.NotEqual(t, "3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b", patientID, "the hub assigns the id")

	page, err := h.daemon.pipeline.Audit.Query(context.Background(), audit.Filter{Tenant: "north", Patient: patientID})
	require.NoError(t, err)
	var types []string
	for _, r := range page.Records {
		types = append(types, r.ResourceType)
	}
	assert.ElementsMatch(t, []string{"Patient", "Observation"}, types)
}

// A search by name discloses the patients it returns, so each one's
// accounting of disclosures lists the search.
func TestSearchAuditedForEachPatientReturned(t *testing.T) {
	h := newInProcessHub(t)
	first := strings.TrimPrefix(h.createPatient(t), "Patient/")
	second := strings.TrimPrefix(h.createPatient(t), "Patient/")

	status, body := h.do(t, http.MethodGet, "/fhir/Patient?family=Quillfeather", "", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Contains(t, string(body), first)
	assert.Contains(t, string(body), second)

	for _, patient := range []string{first, second} {
		page, err := h.daemon.pipeline.Audit.Query(context.Background(), audit.Filter{Tenant: "north", Patient: patient})
		require.NoError(t, err)
		var searches []audit.Record
		for _, r := range page.Records {
			if r.Action == "search" {
				searches = append(searches, r)
			}
		}
		require.Len(t, searches, 1, "patient %s", patient)
		assert.Equal(t, "Patient", searches[0].ResourceType)
		assert.Equal(t, patient, searches[0].ResourceID)
		assert.Contains(t, searches[0].Reasons, "hub.search_result")
	}
}
