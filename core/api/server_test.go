package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/fhir"
	"github.com/healthhub/healthhub/core/metrics"
	"github.com/healthhub/healthhub/core/units"
	"github.com/healthhub/healthhub/sdk"
)

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	server *Server
	issuer *auth.Issuer
	logs   *syncBuffer
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	authenticator, err := auth.NewAuthenticator(auth.Config{}, auth.Options{HubKey: key.Public().(ed25519.PublicKey), Logger: logger})
	require.NoError(t, err)
	issuer, err := auth.NewIssuer(key, auth.Config{})
	require.NoError(t, err)
	cfg.AccessLog = true
	server, err := New(cfg, authenticator, metrics.New(), logger)
	require.NoError(t, err)
	return &harness{server: server, issuer: issuer, logs: logs}
}

func (h *harness) token(t *testing.T, subject string) string {
	t.Helper()
	issued, err := h.issuer.Issue(auth.TokenRequest{Subject: subject, Roles: []string{"clinician"}, Tenant: "north"})
	require.NoError(t, err)
	return issued.Token
}

func (h *harness) do(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.server.ServeHTTP(rec, r)
	return rec
}

func authed(method, target, token string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// decodeOutcome checks that a response is an OperationOutcome and returns
// it.
func decodeOutcome(t *testing.T, rec *httptest.ResponseRecorder) fhir.OperationOutcome {
	t.Helper()
	assert.Equal(t, "application/fhir+json; charset=utf-8", rec.Header().Get("Content-Type"))
	var outcome fhir.OperationOutcome
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &outcome), "body: %s", rec.Body.String())
	require.Equal(t, "OperationOutcome", outcome.ResourceType)
	require.NotEmpty(t, outcome.Issue)
	return outcome
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t, Config{})
	rec := h.do(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())

	rec = h.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)

	h.server.AddReadinessCheck("store", func(context.Context) error { return errors.New("database is locked at /srv/secret.db") })
	rec = h.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"status":"unavailable","checks":{"store":"failing"}}`, rec.Body.String())
	assert.Contains(t, h.logs.String(), "database is locked", "the reason is logged")
}

func TestSessionRequiresCredential(t *testing.T) {
	h := newHarness(t, Config{})
	rec := h.do(httptest.NewRequest(http.MethodGet, "/v1/session", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="healthhub"`, rec.Header().Get("WWW-Authenticate"))
	outcome := decodeOutcome(t, rec)
	assert.Equal(t, "login", outcome.Issue[0].Code)
	assert.Contains(t, outcome.Issue[0].Diagnostics, "missing credential")

	r := authed(http.MethodGet, "/v1/session", h.token(t, "dr-lee"), nil)
	r.Header.Set(auth.HeaderPurposeOfUse, "TREAT")
	rec = h.do(r)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var principal auth.Principal
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &principal))
	assert.Equal(t, "dr-lee", principal.ID)
	assert.Equal(t, "north", principal.Tenant)
	assert.Equal(t, "TREAT", principal.PurposeOfUse)
}

func TestMetricsEndpoint(t *testing.T) {
	enabled, disabled := true, false
	tests := []struct {
		name   string
		cfg    MetricsConfig
		token  bool
		status int
	}{
		{"open by default", MetricsConfig{}, false, http.StatusOK},
		{"auth required without token", MetricsConfig{Enabled: &enabled, RequireAuth: true}, false, http.StatusUnauthorized},
		{"auth required with token", MetricsConfig{RequireAuth: true}, true, http.StatusOK},
		{"disabled", MetricsConfig{Enabled: &disabled}, false, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Metrics: tc.cfg})
			h.do(httptest.NewRequest(http.MethodGet, "/healthz", nil))
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.token {
				r.Header.Set("Authorization", "Bearer "+h.token(t, "prometheus"))
			}
			rec := h.do(r)
			assert.Equal(t, tc.status, rec.Code)
			if tc.status == http.StatusOK {
				assert.Contains(t, rec.Body.String(), `healthhub_http_request_duration_seconds_count{code="200",method="GET",route="GET /healthz"} 1`)
			}
		})
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	h := newHarness(t, Config{})
	rec := h.do(httptest.NewRequest(http.MethodGet, "/fhir/Nope/1", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "not-found", decodeOutcome(t, rec).Issue[0].Code)

	rec = h.do(httptest.NewRequest(http.MethodDelete, "/healthz", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Contains(t, rec.Header().Get("Allow"), "GET")
	assert.Equal(t, "not-supported", decodeOutcome(t, rec).Issue[0].Code)
}

// registerEcho adds a route that returns its body, with the given limit.
func registerEcho(h *harness, maxBody int64) {
	h.server.Handle(Route{
		Method: http.MethodPost, Path: "/v1/echo", Consumes: []string{ContentTypeFHIR, ContentTypeJSON}, MaxBody: maxBody,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", ContentTypeFHIR)
			_, err = w.Write(body)
			return err
		},
	})
}

// chunkedReader hides its length, so the request is sent without
// Content-Length.
type chunkedReader struct{ io.Reader }

func TestRequestBodyChecks(t *testing.T) {
	h := newHarness(t, Config{})
	registerEcho(h, 64)
	token := h.token(t, "dr-lee")
	big := strings.Repeat("x", 65)

	tests := []struct {
		name        string
		contentType string
		body        io.Reader
		length      int64
		status      int
		code        string
	}{
		{"fhir json", "application/fhir+json", strings.NewReader(`{"a":1}`), 7, http.StatusOK, ""},
		{"json with charset", "application/json; charset=utf-8", strings.NewReader(`{}`), 2, http.StatusOK, ""},
		{"xml", "application/fhir+xml", strings.NewReader(`<Patient/>`), 10, http.StatusUnsupportedMediaType, "not-supported"},
		{"no content type", "", strings.NewReader(`{}`), 2, http.StatusUnsupportedMediaType, "not-supported"},
		{"malformed content type", "application/", strings.NewReader(`{}`), 2, http.StatusUnsupportedMediaType, "not-supported"},
		{"declared too large", "application/fhir+json", strings.NewReader(big), 65, http.StatusRequestEntityTooLarge, "too-long"},
		{"streamed too large", "application/fhir+json", chunkedReader{strings.NewReader(big)}, -1, http.StatusRequestEntityTooLarge, "too-long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := authed(http.MethodPost, "/v1/echo", token, tc.body)
			r.ContentLength = tc.length
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			rec := h.do(r)
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.code != "" {
				assert.Equal(t, tc.code, decodeOutcome(t, rec).Issue[0].Code)
			}
		})
	}
}

func TestBodyOnRouteWithoutBody(t *testing.T) {
	h := newHarness(t, Config{})
	r := authed(http.MethodGet, "/v1/session", h.token(t, "dr-lee"), strings.NewReader(`{}`))
	rec := h.do(r)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, decodeOutcome(t, rec).Issue[0].Diagnostics, "takes no request body")
}

func TestPanicBecomesOperationOutcome(t *testing.T) {
	h := newHarness(t, Config{})
	h.server.Handle(Route{Method: http.MethodGet, Path: "/v1/boom", Handler: func(http.ResponseWriter, *http.Request) error {
		panic("secret internal state 0xdeadbeef")
	}})
	r := authed(http.MethodGet, "/v1/boom", h.token(t, "dr-lee"), nil)
	r.Header.Set(HeaderRequestID, "req-panic-1")
	rec := h.do(r)

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	outcome := decodeOutcome(t, rec)
	assert.Equal(t, "exception", outcome.Issue[0].Code)
	assert.Contains(t, outcome.Issue[0].Diagnostics, "req-panic-1")
	assert.NotContains(t, rec.Body.String(), "0xdeadbeef", "panic values stay in the log")
	logs := h.logs.String()
	assert.Contains(t, logs, "0xdeadbeef")
	assert.Contains(t, logs, `"stack"`)
	assert.Contains(t, logs, `"status":500`)
}

func TestHandlerErrorsMapToStatus(t *testing.T) {
	h := newHarness(t, Config{})
	var failWith error
	h.server.Handle(Route{Method: http.MethodPut, Path: "/v1/fail", Consumes: []string{ContentTypeJSON}, Handler: func(http.ResponseWriter, *http.Request) error {
		return failWith
	}})
	token := h.token(t, "dr-lee")

	tests := []struct {
		name    string
		err     error
		ifMatch string
		status  int
	}{
		{"invalid", sdk.Invalidf("/name/0", "name is empty"), "", http.StatusBadRequest},
		{"forbidden", sdk.Errorf(sdk.CodeForbidden, "denied by rule tenant_isolation"), "", http.StatusForbidden},
		{"not found", sdk.ErrNotFound, "", http.StatusNotFound},
		{"conflict", sdk.Errorf(sdk.CodeConflict, "version 3 is current"), "", http.StatusConflict},
		{"precondition", sdk.Errorf(sdk.CodeConflict, "version 3 is current"), `W/"2"`, http.StatusPreconditionFailed},
		{"transaction precondition", sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeConflict, Path: "/entry/1/request/ifMatch", Diagnostics: "entry 1: version 3 is current"}), "", http.StatusPreconditionFailed},
		{"business rule", sdk.Errorf(sdk.CodeBusinessRule, "transaction entry 3 fails"), "", http.StatusUnprocessableEntity},
		{"plugin failure", sdk.Errorf(sdk.CodeException, "crashed").WithSource(sdk.SourcePlugin), "", http.StatusBadGateway},
		{"upstream timeout", sdk.Upstreamf(sdk.CodeTimeout, "model server did not answer"), "", http.StatusGatewayTimeout},
		{"deadline", context.DeadlineExceeded, "", http.StatusGatewayTimeout},
		{"hub bug", errors.New("nil map in store"), "", http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			failWith = tc.err
			r := authed(http.MethodPut, "/v1/fail", token, nil)
			if tc.ifMatch != "" {
				r.Header.Set("If-Match", tc.ifMatch)
			}
			rec := h.do(r)
			assert.Equal(t, tc.status, rec.Code)
			decodeOutcome(t, rec)
		})
	}
	assert.NotContains(t, h.do(authed(http.MethodPut, "/v1/fail", token, nil)).Body.String(), "nil map", "internal errors are not shown to clients")
}

func TestOutcomeCarriesPathRuleAndSource(t *testing.T) {
	o := sdk.NewOutcome(sdk.Issue{
		Severity: sdk.SeverityError, Code: sdk.CodeValue, Path: "/birthDate", Expression: "Patient.birthDate",
		Diagnostics: `"1974-13-01" is not a valid date`, Rule: "date-format", Source: sdk.SourceHub,
	})
	rec := httptest.NewRecorder()
	WriteOutcome(rec, http.StatusBadRequest, o)
	assert.JSONEq(t, `{"resourceType":"OperationOutcome","issue":[{
		"severity":"error","code":"value","diagnostics":"\"1974-13-01\" is not a valid date",
		"location":["/birthDate"],
		"expression":["Patient.birthDate"],
		"details":{"coding":[{"system":"urn:healthhub:rule","code":"date-format"}],"text":"date-format"},
		"extension":[{"url":"urn:healthhub:extension:issue-source","valueCode":"hub"}]}]}`, rec.Body.String())
}

func TestRateLimitPerSubject(t *testing.T) {
	h := newHarness(t, Config{Limits: LimitsConfig{RateLimit: RateLimitConfig{RequestsPerSecond: 0.01, Burst: 2}}})
	lee, kim := h.token(t, "dr-lee"), h.token(t, "dr-kim")
	for i := range 2 {
		assert.Equal(t, http.StatusOK, h.do(authed(http.MethodGet, "/v1/session", lee, nil)).Code, "request %d", i)
	}
	rec := h.do(authed(http.MethodGet, "/v1/session", lee, nil))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, retry, 1)
	assert.Equal(t, "throttled", decodeOutcome(t, rec).Issue[0].Code)

	assert.Equal(t, http.StatusOK, h.do(authed(http.MethodGet, "/v1/session", kim, nil)).Code, "another subject has its own bucket")
	assert.Equal(t, http.StatusOK, h.do(httptest.NewRequest(http.MethodGet, "/healthz", nil)).Code, "unauthenticated routes are not limited")
}

func TestRateLimiterEvictsFullBuckets(t *testing.T) {
	limiter := newRateLimiter(RateLimitConfig{RequestsPerSecond: 1, Burst: 1, MaxSubjects: 2})
	now := time.Now()
	ok, _ := limiter.allow("a", now)
	require.True(t, ok)
	ok, _ = limiter.allow("b", now)
	require.True(t, ok)
	ok, delay := limiter.allow("a", now)
	assert.False(t, ok)
	assert.Equal(t, time.Second, delay)

	// Both buckets are full again after a second, so a third subject
	// replaces them, and "a" starts over with a full bucket.
	later := now.Add(time.Second)
	ok, _ = limiter.allow("c", later)
	assert.True(t, ok)
	assert.Len(t, limiter.buckets, 1)

	// While "c" is empty it is not evicted.
	ok, _ = limiter.allow("d", later)
	assert.True(t, ok)
	ok, _ = limiter.allow("e", later)
	assert.True(t, ok)
	ok, _ = limiter.allow("c", later)
	assert.False(t, ok, "an empty bucket survives eviction")
}

func TestRequestIDs(t *testing.T) {
	h := newHarness(t, Config{})
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.Header.Set(HeaderRequestID, "client-id-42")
	assert.Equal(t, "client-id-42", h.do(r).Header().Get(HeaderRequestID))

	r = httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.Header.Set(HeaderRequestID, "bad id\" with quotes")
	generated := h.do(r).Header().Get(HeaderRequestID)
	assert.Len(t, generated, 24)
	assert.NotEqual(t, generated, h.do(httptest.NewRequest(http.MethodGet, "/healthz", nil)).Header().Get(HeaderRequestID))
}

func TestAccessLogOmitsQueryString(t *testing.T) {
	h := newHarness(t, Config{})
	r := authed(http.MethodGet, "/v1/session?name=Zebediah&birthdate=1961-02-03", h.token(t, "dr-lee"), nil)
	r.Header.Set(HeaderRequestID, "req-log-1")
	require.Equal(t, http.StatusOK, h.do(r).Code)

	logs := h.logs.String()
	assert.NotContains(t, logs, "Zebediah")
	assert.NotContains(t, logs, "1961-02-03")
	var line map[string]any
	for text := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		require.NoError(t, json.Unmarshal([]byte(text), &line))
		if line["request_id"] == "req-log-1" {
			break
		}
	}
	assert.Equal(t, "request", line["msg"])
	assert.Equal(t, "GET /v1/session", line["route"])
	assert.Equal(t, "/v1/session", line["path"])
	assert.Equal(t, "dr-lee", line["subject"])
	assert.Equal(t, "north", line["tenant"])
	assert.EqualValues(t, 200, line["status"])
}

func TestRequestDeadline(t *testing.T) {
	h := newHarness(t, Config{Server: ServerConfig{RequestTimeout: units.Duration(20 * time.Millisecond)}})
	h.server.Handle(Route{Method: http.MethodGet, Path: "/v1/slow", Handler: func(w http.ResponseWriter, r *http.Request) error {
		_, hasDeadline := r.Context().Deadline()
		if !hasDeadline {
			return errors.New("no deadline")
		}
		<-r.Context().Done()
		return r.Context().Err()
	}})
	rec := h.do(authed(http.MethodGet, "/v1/slow", h.token(t, "dr-lee"), nil))
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
	assert.Equal(t, "timeout", decodeOutcome(t, rec).Issue[0].Code)
}

func TestGracefulShutdownDrainsRequests(t *testing.T) {
	h := newHarness(t, Config{})
	started, release := make(chan struct{}), make(chan struct{})
	h.server.Handle(Route{Method: http.MethodGet, Path: "/v1/wait", Handler: func(w http.ResponseWriter, r *http.Request) error {
		close(started)
		<-release
		return writeJSON(w, http.StatusOK, map[string]string{"done": "yes"})
	}})
	var order []string
	h.server.OnShutdown(func(context.Context) error { order = append(order, "plugins"); return nil })
	h.server.OnShutdown(func(context.Context) error { order = append(order, "audit"); return nil })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.server.Serve(ctx, ln) }()

	base := "http://" + ln.Addr().String()
	responses := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/wait", nil)
		req.Header.Set("Authorization", "Bearer "+h.token(t, "dr-lee"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
			close(responses)
			return
		}
		responses <- resp
	}()
	<-started
	cancel()

	require.Eventually(t, func() bool { return h.server.draining.Load() }, 5*time.Second, 5*time.Millisecond)
	rec := h.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "not ready while draining")
	assert.Empty(t, order, "shutdown steps wait for the drain")

	close(release)
	resp := <-responses
	require.NotNil(t, resp)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"done":"yes"}`, string(body))
	require.NoError(t, <-served)
	assert.Equal(t, []string{"audit", "plugins"}, order)

	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	assert.Error(t, err, "the listener is closed")
}

func TestRouteTimeoutOverridesServer(t *testing.T) {
	h := newHarness(t, Config{Server: ServerConfig{RequestTimeout: units.Duration(time.Hour)}})
	h.server.Handle(Route{Method: http.MethodPost, Path: "/v1/upload", Consumes: []string{"*/*"}, Timeout: 20 * time.Millisecond, Handler: func(w http.ResponseWriter, r *http.Request) error {
		<-r.Context().Done()
		return r.Context().Err()
	}})
	r := authed(http.MethodPost, "/v1/upload", h.token(t, "dr-lee"), strings.NewReader("RIFF....WAVE"))
	r.Header.Set("Content-Type", "audio/wav")
	rec := h.do(r)
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code, "any content type is accepted and the route's own deadline applies")
}

func TestCloseRunsShutdownSteps(t *testing.T) {
	h := newHarness(t, Config{})
	var order []string
	h.server.OnShutdown(func(context.Context) error { order = append(order, "first"); return nil })
	h.server.OnShutdown(func(context.Context) error { order = append(order, "second"); return errors.New("disk gone") })
	err := h.server.Close(context.Background())
	assert.ErrorContains(t, err, "disk gone")
	assert.Equal(t, []string{"second", "first"}, order)
}

func TestProfilerOnItsOwnListener(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pprofAddress := probe.Addr().String()
	require.NoError(t, probe.Close())

	h := newHarness(t, Config{Server: ServerConfig{PprofListen: pprofAddress}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.server.Serve(ctx, ln) }()
	defer func() {
		cancel()
		require.NoError(t, <-served)
	}()

	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = http.Get("http://" + pprofAddress + "/debug/pprof/cmdline")
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get("http://" + ln.Addr().String() + "/debug/pprof/cmdline")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the API address does not serve the profiler")
}
