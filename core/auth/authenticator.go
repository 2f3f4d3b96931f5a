package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Options are the parts an Authenticator verifies credentials with.
type Options struct {
	// HubKey is the public half of the hub's signing key. Required.
	HubKey ed25519.PublicKey
	// OIDCKeys holds the external issuer's keys. Required when
	// Config.OIDC.Issuer is set, ignored otherwise.
	OIDCKeys *KeySet
	// APIKeys holds the service account keys; nil rejects every API key.
	APIKeys *KeyStore
	// Logger receives warnings about key sets. Required.
	Logger *slog.Logger
	// Now is the clock tokens are checked against; nil means time.Now.
	Now func() time.Time
}

// Authenticator turns the credential of a request into a Principal. It is
// safe for concurrent use.
type Authenticator struct {
	cfg      Config
	hubKey   ed25519.PublicKey
	oidcKeys *KeySet
	apiKeys  *KeyStore
	claims   ClaimNames
	now      func() time.Time
	cache    *tokenCache
}

// NewAuthenticator returns an authenticator for cfg.
func NewAuthenticator(cfg Config, opts Options) (*Authenticator, error) {
	if len(opts.HubKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("create authenticator: hub key has %d bytes, want an Ed25519 public key of %d", len(opts.HubKey), ed25519.PublicKeySize)
	}
	if cfg.OIDC.Issuer != "" && opts.OIDCKeys == nil {
		return nil, fmt.Errorf("create authenticator: issuer %q is configured but no key set was given", cfg.OIDC.Issuer)
	}
	if cfg.OIDC.Issuer == cfg.issuer() {
		return nil, fmt.Errorf("create authenticator: auth.oidc.issuer %q equals the hub's own issuer: set auth.issuer to another name", cfg.OIDC.Issuer)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Authenticator{
		cfg:      cfg,
		hubKey:   opts.HubKey,
		oidcKeys: opts.OIDCKeys,
		apiKeys:  opts.APIKeys,
		claims:   cfg.OIDC.Claims.withDefaults(),
		now:      now,
		cache:    newTokenCache(),
	}, nil
}

// Authenticate reads the bearer credential and the purpose-of-use and
// break-glass headers of r. Errors are *sdk.Outcome values: code login (401)
// for a missing, malformed, expired or untrusted credential, invalid (400)
// for a malformed header, transient (503) when the external issuer's keys
// cannot be fetched.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	credential, err := bearerCredential(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	principal, err := a.Verify(ctx, credential)
	if err != nil {
		return nil, err
	}
	if err := principal.readRequestHeaders(r); err != nil {
		return nil, err
	}
	return principal, nil
}

// Verify checks a token or API key and returns its principal, without the
// request headers.
func (a *Authenticator) Verify(ctx context.Context, credential string) (*Principal, error) {
	if IsAPIKey(credential) {
		if a.apiKeys == nil {
			return nil, loginError("API keys are not enabled on this hub")
		}
		return a.apiKeys.Verify(credential, a.now())
	}
	if principal, ok := a.cache.get(credential, a.now()); ok {
		return principal, nil
	}
	principal, err := a.verifyToken(ctx, credential)
	if err != nil {
		return nil, err
	}
	a.cache.put(credential, principal, a.now())
	return principal, nil
}

func bearerCredential(header string) (string, error) {
	if header == "" {
		return "", loginError("missing credential: send the header Authorization: Bearer <token or API key>")
	}
	scheme, credential, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", loginError("the Authorization header must use the Bearer scheme")
	}
	credential = strings.TrimSpace(credential)
	if credential == "" {
		return "", loginError("the Authorization header has an empty bearer credential")
	}
	return credential, nil
}

var acceptedAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.RS256, jose.ES256}

func (a *Authenticator) verifyToken(ctx context.Context, token string) (*Principal, error) {
	parsed, err := jwt.ParseSigned(token, acceptedAlgorithms)
	if err != nil {
		return nil, loginError("token is not a JWT signed with EdDSA, RS256 or ES256: %v", trimJoseError(err))
	}
	var unverified jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, loginError("token claims cannot be read: %v", trimJoseError(err))
	}
	header := parsed.Headers[0]
	alg := jose.SignatureAlgorithm(header.Algorithm)

	switch {
	case unverified.Issuer == a.cfg.issuer():
		if alg != jose.EdDSA {
			return nil, loginError("hub tokens are signed with EdDSA, this one with %s", alg)
		}
		return a.verifyClaims(parsed, a.hubKey, a.cfg.issuer(), a.cfg.audience(), ClaimNames{}.withDefaults(), MethodHubToken)
	case a.cfg.OIDC.Issuer != "" && unverified.Issuer == a.cfg.OIDC.Issuer:
		if alg != jose.RS256 && alg != jose.ES256 {
			return nil, loginError("tokens of issuer %q must be signed with RS256 or ES256, this one with %s", unverified.Issuer, alg)
		}
		key, err := a.oidcKeys.Key(ctx, header.KeyID, alg)
		if err != nil {
			return nil, err
		}
		return a.verifyClaims(parsed, key, a.cfg.OIDC.Issuer, a.cfg.OIDC.audience(a.cfg), a.claims, MethodOIDCToken)
	}
	return nil, loginError("token issuer %q is not trusted by this hub", unverified.Issuer)
}

func (a *Authenticator) verifyClaims(parsed *jwt.JSONWebToken, key any, issuer, audience string, names ClaimNames, method string) (*Principal, error) {
	var std jwt.Claims
	raw := map[string]any{}
	if err := parsed.Claims(key, &std, &raw); err != nil {
		return nil, loginError("token signature is not valid: %v", trimJoseError(err))
	}
	if std.Expiry == nil {
		return nil, loginError("token has no expiry (exp claim)")
	}
	expected := jwt.Expected{Issuer: issuer, AnyAudience: []string{audience}, Time: a.now()}
	if err := std.ValidateWithLeeway(expected, a.cfg.ClockSkew.Or(DefaultClockSkew)); err != nil {
		return nil, claimError(err, std, audience)
	}

	principal, err := mapClaims(raw, names)
	if err != nil {
		return nil, err
	}
	principal.Method = method
	principal.Issuer = issuer
	principal.CredentialID = std.ID
	principal.ExpiresAt = std.Expiry.Time()
	if err := principal.check(); err != nil {
		return nil, err
	}
	return principal, nil
}

func claimError(err error, std jwt.Claims, audience string) error {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return loginError("token expired at %s: get a new token", std.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet):
		return loginError("token is not valid before %s", std.NotBefore.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return loginError("token is issued in the future (%s): check the issuer's clock", std.IssuedAt.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrInvalidAudience):
		return loginError("token audience %q does not include %q", []string(std.Audience), audience)
	}
	return loginError("token claims are not valid: %v", trimJoseError(err))
}

// trimJoseError drops the library's package prefix from an error message.
func trimJoseError(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"go-jose/go-jose/jwt: ", "go-jose/go-jose: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	return msg
}
