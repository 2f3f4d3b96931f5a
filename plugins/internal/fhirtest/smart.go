package fhirtest

import (
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxAssertionLifetime is the longest exp a client assertion may carry:
// the SMART Backend Services specification limits it to five minutes
// after the request.
const maxAssertionLifetime = 5 * time.Minute

// client is a registered backend service.
type client struct {
	keyID     string
	publicKey crypto.PublicKey
	scope     string
}

// authority issues and checks access tokens.
type authority struct {
	clients       map[string]client
	tokens        map[string]time.Time
	seenJTI       map[string]bool
	tokenLifetime time.Duration
	tokenRequests int
}

// RegisterClient turns on authorization: from then on every FHIR request
// needs a token, which clientID obtains with assertions signed by the
// private key of publicKey and the header kid keyID. scope is what the
// server grants.
func (s *Server) RegisterClient(clientID, keyID string, publicKey crypto.PublicKey, scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		s.auth = &authority{clients: map[string]client{}, tokens: map[string]time.Time{}, seenJTI: map[string]bool{}, tokenLifetime: 5 * time.Minute}
	}
	s.auth.clients[clientID] = client{keyID: keyID, publicKey: publicKey, scope: scope}
}

// SetTokenLifetime sets expires_in of the tokens issued from now on.
func (s *Server) SetTokenLifetime(lifetime time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth.tokenLifetime = lifetime
}

// RevokeTokens invalidates every issued token, as a server restart would.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.auth.tokens)
}

// TokenRequests returns how many token requests succeeded.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		return 0
	}
	return s.auth.tokenRequests
}

func (s *Server) handleSMARTConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.URL,
		"token_endpoint":                        s.TokenURL(),
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS384", "ES384"},
		"scopes_supported": []string{"system/*.read", "system/*.write", "system/*.rs", "system/*.cruds"},
		"capabilities":     []string{"client-confidential-asymmetric"},
	})
}

// authorized wraps a FHIR handler with the bearer token check when
// authorization is on.
func (s *Server) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !acceptsFHIRJSON(r) {
			operationOutcome(w, http.StatusNotAcceptable, "not-supported", "this server returns application/fhir+json only")
			return
		}
		s.mu.Lock()
		auth := s.auth
		valid := auth == nil
		if auth != nil {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			expiry, known := auth.tokens[token]
			valid = ok && known && s.now().Before(expiry)
		}
		s.mu.Unlock()

		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			operationOutcome(w, http.StatusUnauthorized, "login", "a valid bearer token from the token endpoint is required")
			return
		}
		next(w, r)
	}
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request", "the body is not a form")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		tokenError(w, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		tokenError(w, "invalid_request", "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		tokenError(w, "invalid_client", "no client is registered")
		return
	}
	c, err := s.checkAssertion(r.PostForm.Get("client_assertion"))
	if err != nil {
		tokenError(w, "invalid_client", err.Error())
		return
	}
	scope, ok := grantScope(r.PostForm.Get("scope"), c.scope)
	if !ok {
		tokenError(w, "invalid_scope", fmt.Sprintf("scope %q is not granted to this client", r.PostForm.Get("scope")))
		return
	}

	token := randomHex(24)
	s.auth.tokens[token] = s.now().Add(s.auth.tokenLifetime)
	s.auth.tokenRequests++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "bearer",
		"expires_in": int(s.auth.tokenLifetime / time.Second), "scope": scope,
	})
}

// checkAssertion verifies the client assertion JWT. The caller holds s.mu.
func (s *Server) checkAssertion(assertion string) (client, error) {
	var claims jwt.RegisteredClaims
	var found client
	_, err := jwt.ParseWithClaims(assertion, &claims, func(token *jwt.Token) (any, error) {
		c, ok := s.auth.clients[claims.Issuer]
		if !ok {
			return nil, fmt.Errorf("client %q is not registered", claims.Issuer)
		}
		if kid, _ := token.Header["kid"].(string); kid != c.keyID {
			return nil, fmt.Errorf("kid %q does not name the client's key", kid)
		}
		found = c
		return c.publicKey, nil
	},
		jwt.WithValidMethods([]string{"RS384", "ES384"}),
		jwt.WithAudience(s.TokenURL()),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return client{}, fmt.Errorf("client assertion rejected: %w", err)
	}

	switch {
	case claims.Subject != claims.Issuer:
		return client{}, errors.New("client assertion sub must equal iss")
	case claims.ExpiresAt.Time.After(s.now().Add(maxAssertionLifetime + 5*time.Second)):
		return client{}, errors.New("client assertion exp is more than five minutes ahead")
	case claims.ID == "":
		return client{}, errors.New("client assertion has no jti")
	case s.auth.seenJTI[claims.ID]:
		return client{}, errors.New("client assertion jti was already used")
	}
	s.auth.seenJTI[claims.ID] = true
	return found, nil
}

// grantScope returns the requested scopes when the client may have them
// all. An empty request gets the client's scope.
func grantScope(requested, allowed string) (string, bool) {
	if requested == "" {
		return allowed, true
	}
	permitted := strings.Fields(allowed)
	for _, scope := range strings.Fields(requested) {
		ok := false
		for _, p := range permitted {
			if p == scope {
				ok = true
			}
		}
		if !ok {
			return "", false
		}
	}
	return requested, true
}

// tokenError writes an OAuth 2.0 error response (RFC 6749, section 5.2).
func tokenError(w http.ResponseWriter, code, description string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	jsonEncode(w, v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
