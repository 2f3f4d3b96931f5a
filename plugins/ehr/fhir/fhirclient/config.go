package fhirclient

import (
	"time"

	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Defaults of the settings in Config.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 64 << 20
	DefaultScope            = "system/*.read"
)

// Authorization types.
const (
	AuthNone         = "none"
	AuthBearer       = "bearer"
	AuthSMARTBackend = "smart-backend"
)

// Config configures a Client. The JSON form is the plugin's configuration
// object in the hub configuration.
type Config struct {
	// BaseURL is the FHIR server's base URL, such as
	// "https://ehr.example.org/fhir/r4". Required.
	BaseURL string `json:"base_url"`
	// Auth selects and configures authorization. Default: none.
	Auth AuthConfig `json:"auth"`
	// PageSize is sent as _count on searches that do not set one. Default
	// 0, leaving the page size to the server.
	PageSize int `json:"page_size,omitempty"`

	// HTTP adds timeout (default "30s" here), connect_timeout,
	// max_retries, max_retry_wait, max_response_bytes (default 64 MiB
	// here) and allow_insecure_http.
	settings.HTTP

	// DataUse states what the EHR's operator does with the data.
	DataUse settings.DataUse `json:"data_use"`
}

// AuthConfig configures authorization to the FHIR server.
type AuthConfig struct {
	// Type is "none", "bearer" or "smart-backend". Default "none".
	Type string `json:"type,omitempty"`

	// Token is the static bearer token for type "bearer". Prefer
	// TokenFile.
	Token string `json:"token,omitempty"`
	// TokenFile is the path of a file that contains the bearer token.
	TokenFile string `json:"token_file,omitempty"`

	// ClientID is the client id registered with the authorization server,
	// for type "smart-backend". Required for that type.
	ClientID string `json:"client_id,omitempty"`
	// PrivateKeyFile is the path of the PEM private key that signs client
	// assertions: RSA of at least 2048 bits, or ECDSA on P-384, in PKCS #8,
	// PKCS #1 or SEC 1 form. Required for "smart-backend".
	PrivateKeyFile string `json:"private_key_file,omitempty"`
	// KeyID is the kid of the key in the client's registered JWK Set.
	// Required for "smart-backend".
	KeyID string `json:"key_id,omitempty"`
	// Algorithm is "RS384" or "ES384". Default: RS384 for an RSA key,
	// ES384 for an ECDSA key.
	Algorithm string `json:"algorithm,omitempty"`
	// JWKSURL is sent as the jku header of client assertions, for servers
	// that fetch the client's keys. Default: no jku header.
	JWKSURL string `json:"jwks_url,omitempty"`
	// TokenURL is the token endpoint. Default: token_endpoint from
	// [base_url]/.well-known/smart-configuration, fetched on first use.
	TokenURL string `json:"token_url,omitempty"`
	// Scope is the scope requested, such as "system/Patient.read
	// system/Observation.read". Default "system/*.read".
	Scope string `json:"scope,omitempty"`
}

func (c Config) validate() error {
	if c.PageSize < 0 || c.PageSize > 1000 {
		return sdk.Invalidf("/page_size", "configure %s: page_size is %d; use 0 for the server default or a count up to 1000", Name, c.PageSize)
	}
	switch c.Auth.Type {
	case "", AuthNone:
		return nil
	case AuthBearer:
		if c.Auth.Token == "" && c.Auth.TokenFile == "" {
			return required("/auth/token_file", "auth type bearer needs token or token_file")
		}
		return nil
	case AuthSMARTBackend:
		return c.Auth.validateSMART()
	}
	return sdk.Invalidf("/auth/type", "configure %s: auth type %q is not supported; use \"none\", \"bearer\" or \"smart-backend\"", Name, c.Auth.Type)
}

func (a AuthConfig) validateSMART() error {
	switch {
	case a.ClientID == "":
		return required("/auth/client_id", "auth client_id is missing; set it to the client id the EHR registered")
	case a.PrivateKeyFile == "":
		return required("/auth/private_key_file", "auth private_key_file is missing; set it to the PEM key that signs client assertions")
	case a.KeyID == "":
		return required("/auth/key_id", "auth key_id is missing; set it to the kid of the key in the client's JWK Set")
	}
	switch a.Algorithm {
	case "", "RS384", "ES384":
		return nil
	}
	return sdk.Invalidf("/auth/algorithm", "configure %s: auth algorithm %q is not supported; use \"RS384\" or \"ES384\"", Name, a.Algorithm)
}

func (a AuthConfig) scope() string {
	if a.Scope == "" {
		return DefaultScope
	}
	return a.Scope
}

func required(path, message string) error {
	return sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Path: path, Diagnostics: "configure " + Name + ": " + message})
}
