package fhirclient

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

const (
	// assertionLifetime is how far ahead a client assertion's exp lies.
	// SMART Backend Services allows at most five minutes; one minute less
	// leaves room for clock skew between the hub and the server.
	assertionLifetime = 4 * time.Minute
	// defaultTokenLifetime is assumed when a token response has no
	// expires_in, which SMART requires; five minutes is the lifetime the
	// specification recommends as the maximum.
	defaultTokenLifetime = 5 * time.Minute
	assertionType        = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// smartAuth obtains and caches SMART Backend Services access tokens. It is
// safe for concurrent use; concurrent callers share one token request.
type smartAuth struct {
	cfg           AuthConfig
	key           crypto.Signer
	method        jwt.SigningMethod
	discovery     *httpx.Client
	tokenOptions  httpx.Options
	allowInsecure bool
	now           func() time.Time

	mu          sync.Mutex
	tokenURL    *url.URL
	audience    string
	tokenClient *httpx.Client
	token       string
	refreshAt   time.Time
}

// tokenResponse is a successful OAuth 2.0 token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// authorization returns the Authorization header value, fetching a new
// token when none is cached or the cached one is about to expire.
func (a *smartAuth) authorization(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.token != "" && now.Before(a.refreshAt) {
		return "Bearer " + a.token, nil
	}
	if err := a.resolveTokenURL(ctx); err != nil {
		return "", err
	}

	token, lifetime, err := a.requestToken(ctx, now)
	if err != nil {
		return "", err
	}
	a.token = token
	a.refreshAt = now.Add(lifetime - min(time.Minute, lifetime/5))
	return "Bearer " + token, nil
}

// invalidate drops the cached token, after the server rejected it.
func (a *smartAuth) invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = ""
}

// resolveTokenURL takes the configured token URL or discovers it from the
// server's SMART configuration, once. The caller holds a.mu.
func (a *smartAuth) resolveTokenURL(ctx context.Context) error {
	if a.tokenClient != nil {
		return nil
	}
	raw := a.cfg.TokenURL
	if raw == "" {
		discovered, err := a.discover(ctx)
		if err != nil {
			return err
		}
		raw = discovered
	}
	tokenURL, err := settings.Endpoint(raw, "/auth/token_url", a.allowInsecure, Name)
	if err != nil {
		return err
	}
	// settings.Endpoint adds a trailing slash for base URLs; a token URL is
	// used exactly as given.
	tokenURL.Path = strings.TrimSuffix(tokenURL.Path, "/")
	if strings.HasSuffix(raw, "/") {
		tokenURL.Path += "/"
	}

	opts := a.tokenOptions
	opts.BaseURL = tokenURL
	a.tokenURL, a.audience, a.tokenClient = tokenURL, raw, httpx.New(opts)
	return nil
}

func (a *smartAuth) discover(ctx context.Context) (string, error) {
	resp, err := a.discovery.Do(ctx, httpx.Request{Op: "discover token endpoint", Method: http.MethodGet, Path: ".well-known/smart-configuration"})
	if err != nil {
		return "", err
	}
	var configuration struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(resp.Body, &configuration); err != nil || configuration.TokenEndpoint == "" {
		return "", sdk.Upstreamf(sdk.CodeException, "discover token endpoint: %s/.well-known/smart-configuration has no token_endpoint; set auth.token_url", a.discovery.Host())
	}
	return configuration.TokenEndpoint, nil
}

// requestToken sends a client_credentials grant with a signed client
// assertion. The token request is a POST and is not retried.
func (a *smartAuth) requestToken(ctx context.Context, now time.Time) (string, time.Duration, error) {
	assertion, err := a.assertion(now)
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {a.cfg.scope()},
		"client_assertion_type": {assertionType},
		"client_assertion":      {assertion},
	}
	resp, err := a.tokenClient.Do(ctx, httpx.Request{Op: "request access token", Method: http.MethodPost, URL: a.tokenURL, Form: form})
	if err != nil {
		if errors.Is(err, sdk.ErrInvalid) || errors.Is(err, sdk.ErrForbidden) {
			return "", 0, sdk.Upstreamf(sdk.CodeLogin, "request access token: %s rejected client %q: %v; check client_id, key_id, the registered public key and scope", a.tokenClient.Host(), a.cfg.ClientID, err)
		}
		return "", 0, err
	}

	var parsed tokenResponse
	if err := json.Unmarshal(resp.Body, &parsed); err != nil || parsed.AccessToken == "" {
		return "", 0, sdk.Upstreamf(sdk.CodeException, "request access token: %s returned no access_token", a.tokenClient.Host())
	}
	if !strings.EqualFold(parsed.TokenType, "bearer") {
		return "", 0, sdk.Upstreamf(sdk.CodeNotSupported, "request access token: %s issued token type %q; only bearer tokens are supported", a.tokenClient.Host(), parsed.TokenType)
	}
	lifetime := defaultTokenLifetime
	if parsed.ExpiresIn > 0 {
		lifetime = time.Duration(parsed.ExpiresIn) * time.Second
	}
	return parsed.AccessToken, lifetime, nil
}

// assertion builds and signs the client assertion JWT. Its iss and sub are
// the client id, aud is the token URL exactly as configured or discovered,
// and jti is random.
func (a *smartAuth) assertion(now time.Time) (string, error) {
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := jwt.MapClaims{
		"iss": a.cfg.ClientID,
		"sub": a.cfg.ClientID,
		"aud": a.audience,
		"exp": now.Add(assertionLifetime).Unix(),
		"iat": now.Unix(),
		"jti": hex.EncodeToString(jti),
	}
	token := jwt.NewWithClaims(a.method, claims)
	token.Header["kid"] = a.cfg.KeyID
	if a.cfg.JWKSURL != "" {
		token.Header["jku"] = a.cfg.JWKSURL
	}
	signed, err := token.SignedString(a.key)
	if err != nil {
		return "", sdk.Errorf(sdk.CodeException, "sign client assertion with %s: %v", a.method.Alg(), err)
	}
	return signed, nil
}

// parseTokenError reads an OAuth 2.0 error body, {"error": code,
// "error_description": text}.
func parseTokenError(_ int, body []byte) (string, []sdk.Issue) {
	var parsed struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &parsed) != nil || parsed.Error == "" {
		return strings.TrimSpace(string(body)), nil
	}
	if parsed.Description == "" {
		return parsed.Error, nil
	}
	return parsed.Error + ": " + parsed.Description, nil
}
