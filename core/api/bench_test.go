package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/metrics"
)

// BenchmarkAuthenticatedRequest measures the middleware a /fhir or /v1
// request passes before its handler: request id, access log, metrics,
// deadline, token verification and the rate limit.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	authenticator, err := auth.NewAuthenticator(auth.Config{}, auth.Options{HubKey: key.Public().(ed25519.PublicKey), Logger: logger})
	require.NoError(b, err)
	issuer, err := auth.NewIssuer(key, auth.Config{})
	require.NoError(b, err)
	issued, err := issuer.Issue(auth.TokenRequest{Subject: "dr-lee", Roles: []string{"clinician"}, Tenant: "north"})
	require.NoError(b, err)
	server, err := New(Config{AccessLog: true, Limits: LimitsConfig{RateLimit: RateLimitConfig{Disabled: true}}}, authenticator, metrics.New(), logger)
	require.NoError(b, err)

	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/v1/session", nil)
		r.Header.Set("Authorization", "Bearer "+issued.Token)
		rec := httptest.NewRecorder()
		server.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
