package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(body)
}

func TestMetricsExposition(t *testing.T) {
	m := New()
	m.ObserveRequest("GET /fhir/{type}/{id}", "GET", 200, 3*time.Millisecond)
	m.ObservePluginCall("storage-fs", "storage", "Put", "", time.Millisecond)
	m.ObservePluginCall("storage-fs", "storage", "Get", "not-found", time.Millisecond)
	m.ObservePolicyDecision(ResultDeny, 40*time.Microsecond)
	m.ValidationFailed("Patient")
	m.AuditAppended(nil)
	m.AuditAppended(errors.New("disk full"))
	m.RateLimited()
	done := m.RequestStarted()

	text := scrape(t, m)
	for _, want := range []string{
		`healthhub_http_request_duration_seconds_count{code="200",method="GET",route="GET /fhir/{type}/{id}"} 1`,
		`healthhub_http_requests_in_flight 1`,
		`healthhub_plugin_call_duration_seconds_count{kind="storage",method="Put",plugin="storage-fs"} 1`,
		`healthhub_plugin_call_errors_total{code="not-found",kind="storage",method="Get",plugin="storage-fs"} 1`,
		`healthhub_policy_decision_duration_seconds_count{result="deny"} 1`,
		`healthhub_schema_validation_failures_total{resource_type="Patient"} 1`,
		`healthhub_audit_appends_total{result="ok"} 1`,
		`healthhub_audit_appends_total{result="error"} 1`,
		`healthhub_http_rate_limited_total 1`,
		`go_goroutines`,
	} {
		assert.Contains(t, text, want)
	}

	done()
	assert.Contains(t, scrape(t, m), `healthhub_http_requests_in_flight 0`)
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	assert.NotPanics(t, func() {
		m.ObserveRequest("r", "GET", 200, time.Millisecond)
		m.ObservePluginCall("p", "k", "m", "", time.Millisecond)
		m.ObservePolicyDecision(ResultAllow, time.Microsecond)
		m.ValidationFailed("Patient")
		m.AuditAppended(nil)
		m.RateLimited()
		m.RequestStarted()()
	})
}
