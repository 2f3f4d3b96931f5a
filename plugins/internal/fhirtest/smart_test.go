package fhirtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestToken posts a client_credentials grant and returns the status and
// the OAuth error code, if any.
func requestToken(t *testing.T, server *Server, assertion string) (int, string) {
	t.Helper()
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {"system/*.read"},
	}
	resp, err := http.Post(server.TokenURL(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Error       string `json:"error"`
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body.Error
}

func TestTokenEndpointChecksAssertion(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	server := New()
	defer server.Close()
	server.RegisterClient("svc", "k1", &key.PublicKey, "system/*.read")

	sign := func(method jwt.SigningMethod, signKey any, kid string, claims jwt.MapClaims) string {
		token := jwt.NewWithClaims(method, claims)
		token.Header["kid"] = kid
		signed, err := token.SignedString(signKey)
		require.NoError(t, err)
		return signed
	}
	now := time.Now()
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "svc", "sub": "svc", "aud": server.TokenURL(), "exp": now.Add(4 * time.Minute).Unix(), "jti": rand.Text()}
		if change != nil {
			change(c)
		}
		return c
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)

	tests := []struct {
		name      string
		assertion string
		wantError string
	}{
		{"valid", sign(jwt.SigningMethodES384, key, "k1", claims(nil)), ""},
		{"wrong aud", sign(jwt.SigningMethodES384, key, "k1", claims(func(c jwt.MapClaims) { c["aud"] = server.BaseURL() })), "invalid_client"},
		{"sub differs", sign(jwt.SigningMethodES384, key, "k1", claims(func(c jwt.MapClaims) { c["sub"] = "other" })), "invalid_client"},
		{"exp too far", sign(jwt.SigningMethodES384, key, "k1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(10 * time.Minute).Unix() })), "invalid_client"},
		{"expired", sign(jwt.SigningMethodES384, key, "k1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })), "invalid_client"},
		{"no exp", sign(jwt.SigningMethodES384, key, "k1", claims(func(c jwt.MapClaims) { delete(c, "exp") })), "invalid_client"},
		{"no jti", sign(jwt.SigningMethodES384, key, "k1", claims(func(c jwt.MapClaims) { delete(c, "jti") })), "invalid_client"},
		{"other key", sign(jwt.SigningMethodES384, otherKey, "k1", claims(nil)), "invalid_client"},
		{"wrong kid", sign(jwt.SigningMethodES384, key, "k2", claims(nil)), "invalid_client"},
		{"hmac", sign(jwt.SigningMethodHS256, []byte("secret"), "k1", claims(nil)), "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code := requestToken(t, server, tc.assertion)
			assert.Equal(t, tc.wantError, code)
			if tc.wantError == "" {
				assert.Equal(t, http.StatusOK, status)
			} else {
				assert.Equal(t, http.StatusBadRequest, status)
			}
		})
	}

	replayed := sign(jwt.SigningMethodES384, key, "k1", claims(nil))
	status, _ := requestToken(t, server, replayed)
	require.Equal(t, http.StatusOK, status)
	_, code := requestToken(t, server, replayed)
	assert.Equal(t, "invalid_client", code, "a jti is accepted once")
}
