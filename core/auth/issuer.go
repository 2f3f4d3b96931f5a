package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TokenRequest describes a token for the hub to issue.
type TokenRequest struct {
	// Subject is the "sub" claim: the user or service the token is for.
	Subject string
	// Roles are the subject's roles, such as "clinician". At least one.
	Roles []string
	// Tenant is the organisation the subject acts for.
	Tenant string
	// Patient binds a patient-role token to one patient id. Required with
	// role "patient".
	Patient string
	// Scopes are SMART v2 scopes, such as "user/*.cruds". None means the
	// roles alone decide.
	Scopes []string
	// TTL is the token lifetime. Zero means Config.TokenTTL; more than
	// Config.MaxTokenTTL is rejected.
	TTL time.Duration
}

// IssuedToken is a signed token with the facts a caller shows its user.
type IssuedToken struct {
	// Token is the compact JWS serialization, for an Authorization header.
	Token string
	// ID is the token's "jti" claim.
	ID string
	// ExpiresAt is the token's "exp" claim.
	ExpiresAt time.Time
}

// hubClaims are the claims of a token the hub issues.
type hubClaims struct {
	jwt.Claims
	Roles   []string `json:"roles"`
	Tenant  string   `json:"tenant"`
	Scope   string   `json:"scope,omitempty"`
	Patient string   `json:"patient,omitempty"`
}

// Issuer signs the hub's own tokens with its Ed25519 key (JWS algorithm
// EdDSA). It is safe for concurrent use.
type Issuer struct {
	cfg    Config
	signer jose.Signer
	keyID  string
	now    func() time.Time
}

// NewIssuer returns an issuer that signs with key. The token header names
// the key by its RFC 7638 thumbprint, so verifiers can tell keys apart
// after a key rotation.
func NewIssuer(key ed25519.PrivateKey, cfg Config) (*Issuer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("create token issuer: signing key has %d bytes, want an Ed25519 private key of %d", len(key), ed25519.PrivateKeySize)
	}
	keyID, err := KeyID(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("create token issuer: %w", err)
	}
	options := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), keyID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, options)
	if err != nil {
		return nil, fmt.Errorf("create token issuer: %w", err)
	}
	return &Issuer{cfg: cfg, signer: signer, keyID: keyID, now: time.Now}, nil
}

// KeyID returns the RFC 7638 SHA-256 thumbprint of an Ed25519 public key,
// base64url-encoded: the "kid" of the hub's tokens.
func KeyID(key ed25519.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: key}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("compute key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// Issue signs a token for req.
func (i *Issuer) Issue(req TokenRequest) (*IssuedToken, error) {
	ttl, err := i.ttl(req.TTL)
	if err != nil {
		return nil, err
	}
	claims, err := i.claims(req, ttl)
	if err != nil {
		return nil, err
	}

	token, err := jwt.Signed(i.signer).Claims(claims).Serialize()
	if err != nil {
		return nil, fmt.Errorf("issue token for %q: sign: %w", req.Subject, err)
	}
	return &IssuedToken{Token: token, ID: claims.ID, ExpiresAt: claims.Expiry.Time()}, nil
}

func (i *Issuer) ttl(requested time.Duration) (time.Duration, error) {
	maxTTL := i.cfg.MaxTokenTTL.Or(DefaultMaxTokenTTL)
	switch {
	case requested < 0:
		return 0, errors.New("issue token: ttl must not be negative")
	case requested == 0:
		return min(i.cfg.TokenTTL.Or(DefaultTokenTTL), maxTTL), nil
	case requested > maxTTL:
		return 0, fmt.Errorf("issue token: ttl %s is longer than the maximum %s: ask for less or raise auth.max_token_ttl", requested, maxTTL)
	}
	return requested, nil
}

func (i *Issuer) claims(req TokenRequest, ttl time.Duration) (*hubClaims, error) {
	principal := Principal{ID: req.Subject, Roles: req.Roles, Tenant: req.Tenant, Patient: req.Patient}
	if err := principal.check(); err != nil {
		return nil, fmt.Errorf("issue token: %w", err)
	}
	for _, scope := range req.Scopes {
		if scope == "" || strings.ContainsAny(scope, " \t\n") {
			return nil, fmt.Errorf("issue token: scope %q must be one non-empty word, such as patient/Observation.rs", scope)
		}
	}

	id, err := randomID()
	if err != nil {
		return nil, fmt.Errorf("issue token: %w", err)
	}
	now := i.now()
	return &hubClaims{
		Claims: jwt.Claims{
			Issuer:    i.cfg.issuer(),
			Subject:   req.Subject,
			Audience:  jwt.Audience{i.cfg.audience()},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(now.Add(ttl)),
			ID:        id,
		},
		Roles:   req.Roles,
		Tenant:  req.Tenant,
		Scope:   strings.Join(req.Scopes, " "),
		Patient: req.Patient,
	}, nil
}

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
