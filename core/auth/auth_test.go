package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/units"
	"github.com/healthhub/healthhub/sdk"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHubKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return key
}

func newAuthenticator(t *testing.T, cfg Config, key ed25519.PrivateKey, opts Options) *Authenticator {
	t.Helper()
	opts.HubKey = key.Public().(ed25519.PublicKey)
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	a, err := NewAuthenticator(cfg, opts)
	require.NoError(t, err)
	return a
}

func requestWith(header string, extra map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/fhir/Patient/1", nil)
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	for name, value := range extra {
		r.Header.Set(name, value)
	}
	return r
}

func assertCode(t *testing.T, err error, code sdk.IssueCode) {
	t.Helper()
	require.Error(t, err)
	outcome := sdk.AsOutcome(err)
	require.NotEmpty(t, outcome.Issues)
	assert.Equal(t, code, outcome.Issues[0].Code, "error: %v", err)
}

func TestIssueAndAuthenticateHubToken(t *testing.T) {
	key := newHubKey(t)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	issued, err := issuer.Issue(TokenRequest{
		Subject: "dr-lee", Roles: []string{"clinician"}, Tenant: "north",
		Scopes: []string{"user/*.cruds", "patient/Observation.rs"}, TTL: 10 * time.Minute,
	})
	require.NoError(t, err)

	a := newAuthenticator(t, Config{}, key, Options{})
	p, err := a.Authenticate(context.Background(), requestWith("Bearer "+issued.Token, map[string]string{
		HeaderPurposeOfUse:     "ETREAT",
		HeaderBreakGlassReason: "patient unconscious in the emergency department",
	}))
	require.NoError(t, err)
	assert.Equal(t, "dr-lee", p.ID)
	assert.Equal(t, []string{"clinician"}, p.Roles)
	assert.Equal(t, "north", p.Tenant)
	assert.Equal(t, []string{"user/*.cruds", "patient/Observation.rs"}, p.Scopes)
	assert.Equal(t, "ETREAT", p.PurposeOfUse)
	assert.Equal(t, "patient unconscious in the emergency department", p.BreakGlassReason)
	assert.Equal(t, MethodHubToken, p.Method)
	assert.Equal(t, issued.ID, p.CredentialID)
	assert.WithinDuration(t, issued.ExpiresAt, p.ExpiresAt, time.Second)
}

func TestIssueRejectsBadRequests(t *testing.T) {
	issuer, err := NewIssuer(newHubKey(t), Config{MaxTokenTTL: units.Duration(time.Hour)})
	require.NoError(t, err)
	tests := []struct {
		name string
		req  TokenRequest
		want string
	}{
		{"no subject", TokenRequest{Roles: []string{"nurse"}, Tenant: "t"}, "no subject"},
		{"no tenant", TokenRequest{Subject: "s", Roles: []string{"nurse"}}, "no tenant"},
		{"no role", TokenRequest{Subject: "s", Tenant: "t"}, "no role"},
		{"patient without id", TokenRequest{Subject: "s", Roles: []string{"patient"}, Tenant: "t"}, "names no patient"},
		{"ttl too long", TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t", TTL: 2 * time.Hour}, "longer than the maximum"},
		{"scope with space", TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t", Scopes: []string{"a b"}}, "one non-empty word"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := issuer.Issue(tc.req)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestIssuerRejectsShortKey(t *testing.T) {
	_, err := NewIssuer(ed25519.PrivateKey([]byte("short")), Config{})
	assert.ErrorContains(t, err, "want an Ed25519 private key")
}

func TestAuthenticateRejectsBadHubTokens(t *testing.T) {
	key := newHubKey(t)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	good, err := issuer.Issue(TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t"})
	require.NoError(t, err)

	past, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	past.now = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	expired, err := past.Issue(TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t"})
	require.NoError(t, err)

	otherIssuer, err := NewIssuer(newHubKey(t), Config{})
	require.NoError(t, err)
	forged, err := otherIssuer.Issue(TokenRequest{Subject: "s", Roles: []string{"admin"}, Tenant: "t"})
	require.NoError(t, err)

	otherAudience, err := NewIssuer(key, Config{Audience: "elsewhere"})
	require.NoError(t, err)
	wrongAudience, err := otherAudience.Issue(TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t"})
	require.NoError(t, err)

	parts := strings.Split(good.Token, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]
	unsigned := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."

	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"missing header", "", "missing credential"},
		{"basic scheme", "Basic dXNlcjpwYXNz", "Bearer scheme"},
		{"empty bearer", "Bearer  ", "empty bearer"},
		{"not a jwt", "Bearer hello", "not a JWT"},
		{"expired", "Bearer " + expired.Token, "token expired at"},
		{"signed by another key", "Bearer " + forged.Token, "signature is not valid"},
		{"wrong audience", "Bearer " + wrongAudience.Token, "audience"},
		{"tampered payload", "Bearer " + tampered, ""},
		{"alg none", "Bearer " + unsigned, "not a JWT"},
	}
	a := newAuthenticator(t, Config{}, key, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), requestWith(tc.header, nil))
			assert.Nil(t, p)
			assertCode(t, err, sdk.CodeLogin)
			assert.ErrorIs(t, err, sdk.ErrForbidden)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAuthenticateRejectsBadHeaders(t *testing.T) {
	key := newHubKey(t)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	token, err := issuer.Issue(TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t"})
	require.NoError(t, err)
	a := newAuthenticator(t, Config{}, key, Options{})

	tests := []struct {
		name   string
		header string
		value  string
	}{
		{"purpose with spaces", HeaderPurposeOfUse, "treat me now"},
		{"purpose too long", HeaderPurposeOfUse, strings.Repeat("A", 65)},
		{"reason too long", HeaderBreakGlassReason, strings.Repeat("x", MaxBreakGlassReasonLength+1)},
		{"reason with control character", HeaderBreakGlassReason, "urgent\x07bell"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), requestWith("Bearer "+token.Token, map[string]string{tc.header: tc.value}))
			assertCode(t, err, sdk.CodeInvalid)
			assert.Contains(t, err.Error(), tc.header)
		})
	}
}

// oidcIssuer signs tokens like an external OpenID Connect provider.
type oidcIssuer struct {
	alg    jose.SignatureAlgorithm
	key    any
	public any
	kid    string
}

func newRSAIssuer(t *testing.T, kid string) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return &oidcIssuer{alg: jose.RS256, key: key, public: &key.PublicKey, kid: kid}
}

func newECIssuer(t *testing.T, kid string) *oidcIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return &oidcIssuer{alg: jose.ES256, key: key, public: &key.PublicKey, kid: kid}
}

func (o *oidcIssuer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: o.public, KeyID: o.kid, Algorithm: string(o.alg), Use: "sig"}
}

func (o *oidcIssuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", o.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: o.key}, opts)
	require.NoError(t, err)
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return token
}

func externalClaims(extra map[string]any) map[string]any {
	now := time.Now()
	claims := map[string]any{
		"iss": "https://idp.test/realms/clinic",
		"aud": []string{"healthhub"},
		"sub": "nurse-7",
		"exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(),
	}
	for name, value := range extra {
		claims[name] = value
	}
	return claims
}

func writeJWKS(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	data, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "jwks.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func TestAuthenticateExternalTokensFromJWKSFile(t *testing.T) {
	rsaIssuer, ecIssuer := newRSAIssuer(t, "rsa-1"), newECIssuer(t, "ec-1")
	path := writeJWKS(t, rsaIssuer.jwk(), ecIssuer.jwk())
	keys, err := LoadKeySetFile(path, discardLogger())
	require.NoError(t, err)

	cfg := Config{OIDC: OIDCConfig{
		Issuer: "https://idp.test/realms/clinic",
		Claims: ClaimNames{Roles: "realm_access.roles", Tenant: "org", Scope: "scp"},
	}}
	a := newAuthenticator(t, cfg, newHubKey(t), Options{OIDCKeys: keys})
	claims := map[string]any{
		"realm_access": map[string]any{"roles": []string{"nurse", "auditor"}},
		"org":          "south",
		"scp":          []string{"user/Patient.rs"},
	}

	for _, issuer := range []*oidcIssuer{rsaIssuer, ecIssuer} {
		t.Run(string(issuer.alg), func(t *testing.T) {
			token := issuer.sign(t, externalClaims(claims))
			p, err := a.Authenticate(context.Background(), requestWith("Bearer "+token, nil))
			require.NoError(t, err)
			assert.Equal(t, "nurse-7", p.ID)
			assert.Equal(t, []string{"nurse", "auditor"}, p.Roles)
			assert.Equal(t, "south", p.Tenant)
			assert.Equal(t, []string{"user/Patient.rs"}, p.Scopes)
			assert.Equal(t, MethodOIDCToken, p.Method)
		})
	}
}

func TestAuthenticateRejectsBadExternalTokens(t *testing.T) {
	known := newRSAIssuer(t, "rsa-1")
	keys, err := LoadKeySetFile(writeJWKS(t, known.jwk()), discardLogger())
	require.NoError(t, err)
	hubKey := newHubKey(t)
	a := newAuthenticator(t, Config{OIDC: OIDCConfig{Issuer: "https://idp.test/realms/clinic"}}, hubKey, Options{OIDCKeys: keys})
	base := map[string]any{"roles": "nurse", "tenant": "south"}

	unknownKid := newRSAIssuer(t, "rsa-2")
	stolenKid := newRSAIssuer(t, "rsa-1")

	edSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: hubKey}, nil)
	require.NoError(t, err)
	edToken, err := jwt.Signed(edSigner).Claims(externalClaims(base)).Serialize()
	require.NoError(t, err)

	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"unknown key id", unknownKid.sign(t, externalClaims(base)), `no key with id "rsa-2"`},
		{"known id other key", stolenKid.sign(t, externalClaims(base)), "signature is not valid"},
		{"EdDSA for external issuer", edToken, "must be signed with RS256 or ES256"},
		{"untrusted issuer", known.sign(t, externalClaims(map[string]any{"iss": "https://evil.test", "roles": "nurse", "tenant": "south"})), "not trusted"},
		{"no expiry", known.sign(t, externalClaims(map[string]any{"exp": nil, "roles": "nurse", "tenant": "south"})), "no expiry"},
		{"no tenant", known.sign(t, externalClaims(map[string]any{"roles": "nurse"})), "no tenant"},
		{"roles not strings", known.sign(t, externalClaims(map[string]any{"roles": []any{1, 2}, "tenant": "south"})), "must be a non-empty string"},
		{"tenant not a string", known.sign(t, externalClaims(map[string]any{"roles": "nurse", "tenant": 42})), "must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), requestWith("Bearer "+tc.token, nil))
			assertCode(t, err, sdk.CodeLogin)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// jwksServer serves a key set that a test can replace, and counts requests.
type jwksServer struct {
	keys     atomic.Value // []jose.JSONWebKey
	requests atomic.Int32
	fail     atomic.Bool
	server   *httptest.Server
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.keys.Store(keys)
	s.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.fail.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys.Load().([]jose.JSONWebKey)})
	}))
	t.Cleanup(s.server.Close)
	return s
}

func TestRemoteKeySetRefreshesOnUnknownKeyID(t *testing.T) {
	first, second := newECIssuer(t, "ec-1"), newECIssuer(t, "ec-2")
	server := newJWKSServer(t, first.jwk())
	cfg := OIDCConfig{Issuer: "https://idp.test/realms/clinic", JWKSURL: server.server.URL, RefreshMinimum: units.Duration(time.Minute)}
	keys := NewRemoteKeySet(context.Background(), cfg, server.server.Client(), discardLogger())
	clock := time.Now()
	keys.now = func() time.Time { return clock }
	a := newAuthenticator(t, Config{OIDC: cfg}, newHubKey(t), Options{OIDCKeys: keys})
	claims := map[string]any{"roles": "nurse", "tenant": "south"}
	require.Equal(t, int32(1), server.requests.Load())

	_, err := a.Authenticate(context.Background(), requestWith("Bearer "+first.sign(t, externalClaims(claims)), nil))
	require.NoError(t, err)
	assert.Equal(t, int32(1), server.requests.Load(), "a known key needs no fetch")

	// The issuer rotates its key: the first token with the new kid fetches.
	server.keys.Store([]jose.JSONWebKey{first.jwk(), second.jwk()})
	clock = clock.Add(2 * time.Minute)
	_, err = a.Authenticate(context.Background(), requestWith("Bearer "+second.sign(t, externalClaims(claims)), nil))
	require.NoError(t, err)
	assert.Equal(t, int32(2), server.requests.Load())

	// A burst of tokens with unknown kids fetches at most once per minute.
	stranger := newECIssuer(t, "ec-unknown")
	clock = clock.Add(2 * time.Minute)
	for range 20 {
		_, err = a.Authenticate(context.Background(), requestWith("Bearer "+stranger.sign(t, externalClaims(claims)), nil))
		assertCode(t, err, sdk.CodeLogin)
	}
	assert.Equal(t, int32(3), server.requests.Load())
}

func TestRemoteKeySetKeepsKeysWhenFetchFails(t *testing.T) {
	issuer := newRSAIssuer(t, "rsa-1")
	server := newJWKSServer(t, issuer.jwk())
	cfg := OIDCConfig{Issuer: "https://idp.test/realms/clinic", JWKSURL: server.server.URL, CacheTTL: units.Duration(time.Hour)}
	keys := NewRemoteKeySet(context.Background(), cfg, server.server.Client(), discardLogger())
	clock := time.Now()
	keys.now = func() time.Time { return clock }
	a := newAuthenticator(t, Config{OIDC: cfg}, newHubKey(t), Options{OIDCKeys: keys})
	token := issuer.sign(t, externalClaims(map[string]any{"roles": "nurse", "tenant": "south"}))

	server.fail.Store(true)
	clock = clock.Add(2 * time.Hour)
	_, err := a.Authenticate(context.Background(), requestWith("Bearer "+token, nil))
	require.NoError(t, err, "stale keys stay in use while the issuer is down")
	assert.Equal(t, int32(2), server.requests.Load(), "the expired cache was fetched again")
}

func TestRemoteKeySetUnavailableAtStart(t *testing.T) {
	issuer := newRSAIssuer(t, "rsa-1")
	server := newJWKSServer(t, issuer.jwk())
	server.fail.Store(true)
	cfg := OIDCConfig{Issuer: "https://idp.test/realms/clinic", JWKSURL: server.server.URL}
	keys := NewRemoteKeySet(context.Background(), cfg, server.server.Client(), discardLogger())
	a := newAuthenticator(t, Config{OIDC: cfg}, newHubKey(t), Options{OIDCKeys: keys})
	token := issuer.sign(t, externalClaims(map[string]any{"roles": "nurse", "tenant": "south"}))

	_, err := a.Authenticate(context.Background(), requestWith("Bearer "+token, nil))
	assertCode(t, err, sdk.CodeTransient)
	assert.ErrorIs(t, err, sdk.ErrUnavailable)
}

func TestLoadKeySetSkipsUnusableKeys(t *testing.T) {
	issuer := newRSAIssuer(t, "rsa-1")
	good, err := json.Marshal(issuer.jwk())
	require.NoError(t, err)
	doc := `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},{"kty":"XYZ","kid":"odd"},` + string(good) + `]}`
	path := filepath.Join(t.TempDir(), "jwks.json")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))

	keys, err := LoadKeySetFile(path, discardLogger())
	require.NoError(t, err)
	key, err := keys.Key(context.Background(), "rsa-1", jose.RS256)
	require.NoError(t, err)
	assert.IsType(t, &rsa.PublicKey{}, key)
	_, err = keys.Key(context.Background(), "hmac", jose.RS256)
	assertCode(t, err, sdk.CodeLogin)
}

func TestLoadKeySetFileErrors(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(notJSON, []byte("not json"), 0o600))
	noKeys := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(noKeys, []byte(`{}`), 0o600))

	for name, path := range map[string]string{"missing": filepath.Join(dir, "nope.json"), "not json": notJSON, "no keys": noKeys} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadKeySetFile(path, discardLogger())
			assert.Error(t, err)
		})
	}
}

func TestNewAuthenticatorRejectsSameIssuer(t *testing.T) {
	_, err := NewAuthenticator(Config{OIDC: OIDCConfig{Issuer: DefaultIssuer}}, Options{
		HubKey: newHubKey(t).Public().(ed25519.PublicKey), OIDCKeys: &KeySet{}, Logger: discardLogger(),
	})
	assert.ErrorContains(t, err, "equals the hub's own issuer")
}

func TestPatientTokenNamesPatient(t *testing.T) {
	key := newHubKey(t)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	issued, err := issuer.Issue(TokenRequest{Subject: "amy", Roles: []string{RolePatient}, Tenant: "north", Patient: "Patient/p-42"})
	require.NoError(t, err)

	a := newAuthenticator(t, Config{}, key, Options{})
	p, err := a.Verify(context.Background(), issued.Token)
	require.NoError(t, err)
	assert.Equal(t, "p-42", p.Patient)
	assert.True(t, p.HasRole(RolePatient))
}

type ed25519PublicKey = ed25519.PublicKey

func ed25519Key(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(tb, err)
	return key
}
