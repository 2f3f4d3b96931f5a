package fhirclient

import (
	"bytes"
	"crypto/elliptic"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/internal/fhirtest"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

const clientID = "healthhub-backend"

// smartServer starts a server with the example patient and a registered
// RSA client, and returns a configuration that reaches it.
func smartServer(t *testing.T) (*fhirtest.Server, Config) {
	t.Helper()
	server := startServer(t)
	seed := openClient(t, Config{BaseURL: server.BaseURL()})
	_, err := seed.Update(ctx, readTestdata(t, "fhir-r4-examples", "Patient-example.json"), "")
	require.NoError(t, err)

	key := testRSAKey(t)
	server.RegisterClient(clientID, "rsa-1", &key.PublicKey, "system/*.read system/*.write")
	cfg := Config{BaseURL: server.BaseURL(), Auth: AuthConfig{
		Type: AuthSMARTBackend, ClientID: clientID, KeyID: "rsa-1",
		PrivateKeyFile: writeKey(t, key), Scope: "system/*.read",
	}}
	return server, cfg
}

func TestSMARTDiscoveryAndCachedToken(t *testing.T) {
	server, cfg := smartServer(t)
	c := openClient(t, cfg)
	before := server.Calls("/fhir/Patient/example")

	for range 3 {
		_, err := c.Read(ctx, "Patient", "example")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, server.Calls("/fhir/.well-known/smart-configuration"))
	assert.Equal(t, 1, server.TokenRequests(), "the token is cached between calls")
	assert.Equal(t, 3, server.Calls("/fhir/Patient/example")-before)
}

func TestSMARTES384WithTokenURL(t *testing.T) {
	server, cfg := smartServer(t)
	key := newECKey(t, elliptic.P384())
	server.RegisterClient("ec-client", "ec-1", &key.PublicKey, "system/*.read")
	cfg.Auth.ClientID, cfg.Auth.KeyID, cfg.Auth.PrivateKeyFile = "ec-client", "ec-1", writeKey(t, key)
	cfg.Auth.TokenURL = server.TokenURL()
	c := openClient(t, cfg)

	_, err := c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	assert.Zero(t, server.Calls("/fhir/.well-known/smart-configuration"), "a configured token URL needs no discovery")
	assert.Equal(t, 1, server.TokenRequests())
}

func TestSMARTTokenRefreshedBeforeExpiry(t *testing.T) {
	server, cfg := smartServer(t)
	server.SetTokenLifetime(time.Second)
	c := openClient(t, cfg)

	_, err := c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	// The client refreshes a one-second token after 0.8 s; the wait passes
	// that point without asserting on time.
	time.Sleep(1100 * time.Millisecond)
	_, err = c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	assert.Equal(t, 2, server.TokenRequests())
}

func TestSMARTRejectedTokenDropped(t *testing.T) {
	server, cfg := smartServer(t)
	c := openClient(t, cfg)
	_, err := c.Read(ctx, "Patient", "example")
	require.NoError(t, err)

	server.RevokeTokens()
	_, err = c.Read(ctx, "Patient", "example")
	assert.ErrorIs(t, err, sdk.ErrForbidden)
	assert.Equal(t, sdk.CodeLogin, issuesOf(t, err)[0].Code)

	_, err = c.Read(ctx, "Patient", "example")
	require.NoError(t, err, "the next call fetches a new token")
	assert.Equal(t, 2, server.TokenRequests())
}

func TestSMARTClientRejected(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, cfg *Config)
		want   string
	}{
		{"wrong key", func(t *testing.T, cfg *Config) { cfg.Auth.PrivateKeyFile = writeKey(t, newECKey(t, elliptic.P384())) }, "invalid_client"},
		{"wrong kid", func(t *testing.T, cfg *Config) { cfg.Auth.KeyID = "rsa-2" }, "kid"},
		{"unknown client", func(t *testing.T, cfg *Config) { cfg.Auth.ClientID = "intruder" }, "not registered"},
		{"scope not granted", func(t *testing.T, cfg *Config) { cfg.Auth.Scope = "system/*.cruds" }, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server, cfg := smartServer(t)
			tc.change(t, &cfg)
			c := openClient(t, cfg)
			before := server.Calls("/fhir/Patient/example")

			_, err := c.Read(ctx, "Patient", "example")
			assert.ErrorIs(t, err, sdk.ErrForbidden)
			assert.ErrorContains(t, err, tc.want)
			assert.Equal(t, before, server.Calls("/fhir/Patient/example"), "no FHIR request is sent without a token")
			assert.Equal(t, 1, server.Calls("/auth/token"), "the token request is a POST and is not retried")
		})
	}
}

func TestSMARTAssertionNotReplayed(t *testing.T) {
	server, cfg := smartServer(t)
	server.SetTokenLifetime(time.Second)
	c := openClient(t, cfg)

	_, err := c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	time.Sleep(1100 * time.Millisecond)
	_, err = c.Read(ctx, "Patient", "example")
	require.NoError(t, err, "a fresh assertion with a new jti is accepted")
	assert.Equal(t, 2, server.TokenRequests())
}

func TestBearerAuth(t *testing.T) {
	server := startServer(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("static-token\n"), 0o600))
	c := openClient(t, Config{BaseURL: server.BaseURL(), Auth: AuthConfig{Type: AuthBearer, TokenFile: tokenFile}})

	_, err := c.Read(ctx, "Patient", "example")
	assert.ErrorIs(t, err, sdk.ErrNotFound, "no token check without a registered client; the request goes through")
}

func TestLogsCarryNoSecretsOrContent(t *testing.T) {
	server, cfg := smartServer(t)
	var logs bytes.Buffer
	c, err := Open(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	server.Fail("/fhir/Patient/example", fhirtest.Failure{Status: http.StatusServiceUnavailable})

	patient, err := c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "retrying upstream call")
	assert.NotContains(t, logs.String(), "Chalmers")
	assert.NotContains(t, logs.String(), "Bearer")
	assert.NotContains(t, logs.String(), "eyJ", "no JWT appears in the logs")
	assert.Contains(t, string(patient), "Chalmers")
}

func TestConfigure(t *testing.T) {
	rsaFile := writeKey(t, testRSAKey(t))
	p256File := writeKey(t, newECKey(t, elliptic.P256()))
	notPEM := filepath.Join(t.TempDir(), "key.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a key"), 0o600))
	smart := func(extra string) string {
		return `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"smart-backend","client_id":"c","key_id":"k","private_key_file":` + extra + `}}`
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	tests := []struct {
		name string
		raw  string
		path string
	}{
		{"missing base", `{}`, "/base_url"},
		{"http remote", `{"base_url":"http://ehr.example.org/fhir"}`, "/base_url"},
		{"bad auth type", `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"basic"}}`, "/auth/type"},
		{"bearer without token", `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"bearer"}}`, "/auth/token_file"},
		{"smart without client", `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"smart-backend"}}`, "/auth/client_id"},
		{"smart without kid", `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"smart-backend","client_id":"c","private_key_file":"/k"}}`, "/auth/key_id"},
		{"key not pem", smart(quote(notPEM)), "/auth/private_key_file"},
		{"key missing", smart(`"/no/such/key.pem"`), "/auth/private_key_file"},
		{"p256 key", smart(quote(p256File)), "/auth/private_key_file"},
		{"algorithm mismatch", `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"smart-backend","client_id":"c","key_id":"k","algorithm":"ES384","private_key_file":` + quote(rsaFile) + `}}`, "/auth/algorithm"},
		{"bad algorithm", `{"base_url":"https://ehr.example.org/fhir","auth":{"type":"smart-backend","client_id":"c","key_id":"k","algorithm":"HS256","private_key_file":"/k"}}`, "/auth/algorithm"},
		{"page size", `{"base_url":"https://ehr.example.org/fhir","page_size":5000}`, "/page_size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := New(nil).Configure(ctx, json.RawMessage(tc.raw))
			require.Error(t, err)
			assert.Equal(t, tc.path, issuesOf(t, err)[0].Path, err.Error())
		})
	}

	c := New(nil)
	_, err := c.Read(ctx, "Patient", "x")
	assert.ErrorContains(t, err, "not configured")
	require.NoError(t, c.Configure(ctx, json.RawMessage(smart(quote(rsaFile)))))
}

func TestDataUse(t *testing.T) {
	retention := 3650
	c := openClient(t, Config{
		BaseURL: "https://ehr.example.org/fhir/r4",
		Auth:    AuthConfig{Type: AuthSMARTBackend, ClientID: "c", KeyID: "k", PrivateKeyFile: writeKey(t, testRSAKey(t)), TokenURL: "https://login.example.org/oauth2/token"},
		DataUse: settings.DataUse{Region: "us", BAA: true, RetentionDays: &retention},
	})
	declared := c.DataUse()
	assert.True(t, declared.Egress)
	assert.Equal(t, []string{"ehr.example.org", "login.example.org"}, declared.Hosts)
	assert.True(t, declared.BAA)
	assert.Equal(t, 3650, declared.RetentionDays)

	server := startServer(t)
	assert.False(t, openClient(t, Config{BaseURL: server.BaseURL()}).DataUse().Egress)
}
