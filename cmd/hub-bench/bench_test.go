package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	values := make([]time.Duration, 100)
	for i := range values {
		values[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{50, 50 * time.Millisecond},
		{90, 90 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{100, 100 * time.Millisecond},
		{0, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.p), func(t *testing.T) {
			assert.Equal(t, tc.want, percentile(values, tc.p))
		})
	}
	assert.Equal(t, time.Duration(0), percentile(nil, 50))
	assert.Equal(t, 7*time.Millisecond, percentile([]time.Duration{7 * time.Millisecond}, 99))
}

func TestParseOptionsRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{}, "--token is required"},
		{"unknown scenario", []string{"--token", "t", "--scenarios", "delete-all"}, `unknown scenario "delete-all"`},
		{"zero clients", []string{"--token", "t", "--clients", "0"}, "at least 1"},
		{"zero duration", []string{"--token", "t", "--duration", "0s"}, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOptions(tc.args, io.Discard)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// fhirServer is a minimal FHIR endpoint with the create, read and search
// interactions the scenarios use, so that the tool is tested on the
// protocol it speaks to the hub.
type fhirServer struct {
	mu       sync.Mutex
	patients map[string][]byte
	token    string
}

func (s *fhirServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/fhir/Patient":
		if r.Header.Get("Content-Type") != "application/fhir+json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		body, _ := io.ReadAll(r.Body)
		id := fmt.Sprint(len(s.patients) + 1)
		s.patients[id] = body
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"resourceType":"Patient","id":%q}`, id)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/fhir/Patient/"):
		body, ok := s.patients[strings.TrimPrefix(r.URL.Path, "/fhir/Patient/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write(body)
	case r.Method == http.MethodGet && r.URL.Path == "/fhir/Patient" && strings.HasPrefix(r.URL.Query().Get("identifier"), mrnSystem+"|bench-"):
		matches := 0
		_, mrn, _ := strings.Cut(r.URL.Query().Get("identifier"), "|")
		for _, body := range s.patients {
			if strings.Contains(string(body), `"value":"`+mrn+`"`) {
				matches++
			}
		}
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":%d}`, matches)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func TestRunDrivesEveryScenario(t *testing.T) {
	fhir := &fhirServer{patients: map[string][]byte{}, token: "secret-token"}
	server := httptest.NewServer(fhir)
	defer server.Close()

	var stdout bytes.Buffer
	err := run(context.Background(), []string{
		"--url", server.URL, "--token", "secret-token", "--clients", "4",
		"--duration", "2s", "--max-requests", "200", "--json",
	}, &stdout, io.Discard)
	require.NoError(t, err)

	var results []result
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &results))
	require.Len(t, results, 4)
	names := []string{"floor (net/http)", "post-patient", "get-patient", "search"}
	wantStatus := []string{"200", "201", "200", "200"}
	for i, r := range results {
		assert.Equal(t, names[i], r.Name)
		assert.Equal(t, 4, r.Clients)
		assert.Equal(t, 200, r.Requests, "%s stops at --max-requests", r.Name)
		assert.Equal(t, map[string]int{wantStatus[i]: 200}, r.Statuses, r.Name)
		assert.Positive(t, r.P50)
		assert.LessOrEqual(t, r.P50, r.P99)
		assert.LessOrEqual(t, r.P99, r.Max)
	}
	assert.Len(t, fhir.patients, 200+2, "post-patient created 200, get-patient and search one each")
}

func TestRunCountsErrorStatuses(t *testing.T) {
	fhir := &fhirServer{patients: map[string][]byte{}, token: "right"}
	server := httptest.NewServer(fhir)
	defer server.Close()

	var stdout bytes.Buffer
	err := run(context.Background(), []string{
		"--url", server.URL, "--token", "wrong", "--clients", "2", "--duration", "2s",
		"--max-requests", "10", "--scenarios", "post-patient", "--floor=false",
	}, &stdout, io.Discard)
	require.NoError(t, err)
	assert.Contains(t, stdout.String(), "401:10")
}

func TestRunReportsUnreadableCreate(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome"}`))
	}))
	defer server.Close()
	err := run(context.Background(), []string{"--url", server.URL, "--token", "t", "--scenarios", "get-patient", "--floor=false"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "status 403")
}
