package auth

import (
	"time"

	"github.com/healthhub/healthhub/core/units"
)

// Defaults of Config and OIDCConfig.
const (
	DefaultIssuer             = "healthhub"
	DefaultAudience           = "healthhub"
	DefaultTokenTTL           = time.Hour
	DefaultMaxTokenTTL        = 24 * time.Hour
	DefaultClockSkew          = time.Minute
	DefaultJWKSFetchTimeout   = 5 * time.Second
	DefaultJWKSCacheTTL       = time.Hour
	DefaultJWKSRefreshMinimum = time.Minute
)

// Config is the authentication section of the hub configuration. The zero
// value is valid: the hub accepts the tokens it issues itself and API keys,
// and no external issuer.
type Config struct {
	// Issuer is the "iss" claim the hub writes into the tokens it issues
	// and requires of them. Default "healthhub".
	Issuer string `json:"issuer,omitempty"`
	// Audience is the "aud" claim the hub writes into its tokens and
	// requires of every token, its own and external ones unless
	// OIDC.Audience is set. Default "healthhub".
	Audience string `json:"audience,omitempty"`
	// TokenTTL is the lifetime of an issued token when the caller gives
	// none. Default 1h.
	TokenTTL units.Duration `json:"token_ttl,omitempty"`
	// MaxTokenTTL is the longest lifetime an issued token may have.
	// Default 24h.
	MaxTokenTTL units.Duration `json:"max_token_ttl,omitempty"`
	// ClockSkew is the leeway allowed when checking "exp", "nbf" and
	// "iat" against the hub's clock. Default 1m.
	ClockSkew units.Duration `json:"clock_skew,omitempty"`
	// APIKeysFile is the file that keeps the hashes of service account API
	// keys. Default "apikeys.json" in the data directory.
	APIKeysFile string `json:"api_keys_file,omitempty"`
	// OIDC configures an external OpenID Connect issuer whose tokens the
	// hub accepts. Disabled while OIDC.Issuer is empty.
	OIDC OIDCConfig `json:"oidc"`
}

// OIDCConfig configures an external OpenID Connect issuer. Its signing keys
// come from a JWKS file or URL; exactly one of JWKSFile and JWKSURL is set
// when Issuer is.
type OIDCConfig struct {
	// Issuer is the issuer's "iss" value, such as
	// "https://login.example.org/realms/clinic". Empty disables external
	// tokens.
	Issuer string `json:"issuer,omitempty"`
	// Audience is the "aud" value external tokens must carry. Default: the
	// hub's Audience.
	Audience string `json:"audience,omitempty"`
	// JWKSFile is a local file with the issuer's JSON Web Key Set, read once
	// at start.
	JWKSFile string `json:"jwks_file,omitempty"`
	// JWKSURL is the URL of the issuer's JSON Web Key Set. It is
	// fetched at start, again when CacheTTL has passed, and when a token
	// names a key id the hub does not know.
	JWKSURL string `json:"jwks_url,omitempty"`
	// FetchTimeout bounds one JWKS download. Default 5s.
	FetchTimeout units.Duration `json:"fetch_timeout,omitempty"`
	// CacheTTL is how long a downloaded key set is used before it is
	// fetched again. Default 1h.
	CacheTTL units.Duration `json:"cache_ttl,omitempty"`
	// RefreshMinimum is the shortest time between two downloads started by
	// tokens with an unknown key id, so that a flood of forged tokens does
	// not become a flood of requests to the issuer. Default 1m.
	RefreshMinimum units.Duration `json:"refresh_minimum,omitempty"`
	// Claims names the claims that carry the subject's attributes in the
	// issuer's tokens.
	Claims ClaimNames `json:"claims"`
}

// ClaimNames names the JWT claims that map to the policy subject. Empty
// fields take the default names, which are also the names the hub uses in
// the tokens it issues.
type ClaimNames struct {
	// Subject is the claim with the subject id. Default "sub".
	Subject string `json:"subject,omitempty"`
	// Roles is the claim with the roles: an array of strings or one
	// space-separated string. Default "roles".
	Roles string `json:"roles,omitempty"`
	// Tenant is the claim with the tenant id. Default "tenant".
	Tenant string `json:"tenant,omitempty"`
	// Scope is the claim with the SMART v2 scopes: a space-separated
	// string or an array of strings. Default "scope".
	Scope string `json:"scope,omitempty"`
	// Patient is the claim with the patient id that a patient-role token
	// is bound to. Default "patient".
	Patient string `json:"patient,omitempty"`
}

func (c Config) issuer() string   { return or(c.Issuer, DefaultIssuer) }
func (c Config) audience() string { return or(c.Audience, DefaultAudience) }

func (c OIDCConfig) audience(hub Config) string { return or(c.Audience, hub.audience()) }

func (n ClaimNames) withDefaults() ClaimNames {
	return ClaimNames{
		Subject: or(n.Subject, "sub"),
		Roles:   or(n.Roles, "roles"),
		Tenant:  or(n.Tenant, "tenant"),
		Scope:   or(n.Scope, "scope"),
		Patient: or(n.Patient, "patient"),
	}
}

func or(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}
