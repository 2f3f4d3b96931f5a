package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bundleServer serves POST /fhir like a FHIR server. A transaction
// commits all entries or fails as a whole with an OperationOutcome, and a
// batch returns a result per entry. A resource whose "active" is false is invalid.
type bundleServer struct {
	mu        sync.Mutex
	throttle  int
	requests  int
	resources int
	token     string
}

func (s *bundleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	switch {
	case r.Header.Get("Authorization") != "Bearer "+s.token:
		writeTestOutcome(w, http.StatusUnauthorized, "login", "missing credential")
		return
	case r.Header.Get("Content-Type") != "application/fhir+json":
		writeTestOutcome(w, http.StatusUnsupportedMediaType, "not-supported", "wrong content type")
		return
	case s.throttle > 0:
		s.throttle--
		w.Header().Set("Retry-After", "1")
		writeTestOutcome(w, http.StatusTooManyRequests, "throttled", "slow down")
		return
	}

	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(r.Body).Decode(&bundle); err != nil {
		writeTestOutcome(w, http.StatusBadRequest, "structure", err.Error())
		return
	}
	var entries []any
	committed := s.resources
	for i, entry := range bundle.Entry {
		if entry.Resource["active"] == false {
			if bundle.Type == "transaction" {
				writeTestOutcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("entry %d is not active", i))
				return
			}
			entries = append(entries, map[string]any{"response": map[string]any{
				"status":  "400 Bad Request",
				"outcome": map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{"code": "invalid", "diagnostics": "not active", "expression": []string{"Patient.active"}}}},
			}})
			continue
		}
		committed++
		status := "201 Created"
		if entry.Resource["id"] != nil {
			status = "200 OK"
		}
		entries = append(entries, map[string]any{"response": map[string]any{"status": status, "location": fmt.Sprintf("%s/%d/_history/1", entry.Resource["resourceType"], committed)}})
	}
	s.resources = committed
	w.Header().Set("Content-Type", "application/fhir+json")
	_ = json.NewEncoder(w).Encode(map[string]any{"resourceType": "Bundle", "type": bundle.Type + "-response", "entry": entries})
}

func writeTestOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{"severity": "error", "code": code, "diagnostics": diagnostics}}})
}

func runImport(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"import"}, args...), Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestImportSyntheaBundles(t *testing.T) {
	server := &bundleServer{token: "tok"}
	hub := httptest.NewServer(server)
	defer hub.Close()

	files, err := filepath.Glob("../../testdata/synthea-r4/*.json")
	require.NoError(t, err)
	require.Len(t, files, 2)
	files = append([]string{"../../testdata/synthea-companion/practitioners-organizations-locations.json"}, files...)
	code, out, errOut := runImport(t, append(files, "--url", hub.URL, "--token", "tok")...)
	require.Equal(t, ExitOK, code, errOut+out)
	assert.Contains(t, out, "imported 3 file(s):")
	assert.Contains(t, out, "0 failed")
	assert.Regexp(t, `Observation\s+\d+ created`, out)
	assert.Contains(t, out, "Practitioner")
	assert.Equal(t, 3, server.requests)
}

func TestImportNDJSONInBatches(t *testing.T) {
	server := &bundleServer{token: "tok"}
	hub := httptest.NewServer(server)
	defer hub.Close()
	dir := t.TempDir()
	var lines []string
	for i := range 5 {
		lines = append(lines, fmt.Sprintf(`{"resourceType":"Patient","id":"p%d","active":%t}`, i, i != 3))
	}
	lines = append(lines, `{"resourceType":"Observation","status":"final"}`, "", "not json")
	path := writeFile(t, dir, "export.ndjson", strings.Join(lines, "\n")+"\n")

	code, out, _ := runImport(t, path, "--url", hub.URL, "--token", "tok", "--batch-size", "2")
	assert.Equal(t, ExitFailure, code)
	assert.Equal(t, 3, server.requests, "six resources in batches of two")
	assert.Contains(t, out, "1 created, 4 already present or updated, 2 failed")
	assert.Contains(t, out, "export.ndjson resource 2 of the batch from line 3 (400 Bad Request): invalid: Patient.active: not active")
	assert.Contains(t, out, "export.ndjson line 8: not a JSON resource with a resourceType")
}

func TestImportTransactionFailsAsWhole(t *testing.T) {
	server := &bundleServer{token: "tok"}
	hub := httptest.NewServer(server)
	defer hub.Close()
	path := writeFile(t, t.TempDir(), "tx.json", `{"resourceType":"Bundle","type":"transaction","entry":[
		{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Patient","active":false},"request":{"method":"POST","url":"Patient"}}]}`)

	code, out, _ := runImport(t, path, "--url", hub.URL, "--token", "tok")
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, "tx.json all 2 entries (400): invalid: entry 1 is not active")
	assert.Equal(t, 0, server.resources)
}

func TestImportRetriesThrottledRequests(t *testing.T) {
	server := &bundleServer{token: "tok", throttle: 1}
	hub := httptest.NewServer(server)
	defer hub.Close()
	path := writeFile(t, t.TempDir(), "patient.json", `{"resourceType":"Patient"}`)

	code, out, _ := runImport(t, path, "--url", hub.URL, "--token", "tok")
	require.Equal(t, ExitOK, code, out)
	assert.Equal(t, 2, server.requests)
	assert.Contains(t, out, "1 created")
}

func TestImportReportsRejectedCredential(t *testing.T) {
	hub := httptest.NewServer(&bundleServer{token: "right"})
	defer hub.Close()
	path := writeFile(t, t.TempDir(), "patient.json", `{"resourceType":"Patient"}`)
	code, out, _ := runImport(t, path, "--url", hub.URL, "--token", "wrong")
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, "patient.json entry 0 (401): login: missing credential")
}

func TestImportRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{writeFile(t, dir, "a.json", `{"resourceType":"Patient"}`)}, "no credential"},
		{"searchset", []string{writeFile(t, dir, "s.json", `{"resourceType":"Bundle","type":"searchset"}`), "--token", "t"}, `Bundle of type "searchset" cannot be imported`},
		{"not json", []string{writeFile(t, dir, "x.json", `<Patient/>`), "--token", "t"}, "not a JSON resource"},
		{"missing file", []string{filepath.Join(dir, "absent.json"), "--token", "t"}, "no such file"},
		{"bad url", []string{writeFile(t, dir, "b.json", `{"resourceType":"Patient"}`), "--token", "t", "--url", "ftp://hub"}, "not an http or https URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HUB_TOKEN", "")
			code, _, errOut := runImport(t, tc.args...)
			assert.Equal(t, ExitUsage, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

func TestBatchBundleKeepsIDs(t *testing.T) {
	data, err := batchBundle([]json.RawMessage{[]byte(`{"resourceType":"Patient","id":"p1"}`), []byte(`{"resourceType":"Observation"}`)})
	require.NoError(t, err)
	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			Request struct{ Method, URL string } `json:"request"`
		} `json:"entry"`
	}
	require.NoError(t, json.NewDecoder(io.NopCloser(bytes.NewReader(data))).Decode(&bundle))
	assert.Equal(t, "batch", bundle.Type)
	assert.Equal(t, "PUT", bundle.Entry[0].Request.Method)
	assert.Equal(t, "Patient/p1", bundle.Entry[0].Request.URL)
	assert.Equal(t, "POST", bundle.Entry[1].Request.Method)
	assert.Equal(t, "Observation", bundle.Entry[1].Request.URL)
}

func TestOutcomeTextNamesWhere(t *testing.T) {
	withExpression := `{"resourceType":"OperationOutcome","issue":[{"code":"value","diagnostics":"not a date","expression":["Patient.birthDate"],"location":["/birthDate"]}]}`
	assert.Equal(t, "value: Patient.birthDate: not a date", outcomeText([]byte(withExpression)))
	locationOnly := `{"resourceType":"OperationOutcome","issue":[{"code":"not-found","diagnostics":"entry 2: no such resource","location":["/entry/2"]}]}`
	assert.Equal(t, "not-found: /entry/2: entry 2: no such resource", outcomeText([]byte(locationOnly)))
	assert.Empty(t, outcomeText([]byte(`{"resourceType":"Patient"}`)))
}
