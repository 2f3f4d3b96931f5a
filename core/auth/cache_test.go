package auth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func TestCachedTokenStillExpires(t *testing.T) {
	key := newHubKey(t)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	issued, err := issuer.Issue(TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t", TTL: 2 * time.Minute})
	require.NoError(t, err)

	clock := time.Now()
	a := newAuthenticator(t, Config{ClockSkew: 1}, key, Options{Now: func() time.Time { return clock }})
	first, err := a.Verify(context.Background(), issued.Token)
	require.NoError(t, err)
	first.Roles[0] = "admin"

	second, err := a.Verify(context.Background(), issued.Token)
	require.NoError(t, err)
	assert.Equal(t, []string{"nurse"}, second.Roles, "callers cannot change the cached principal")

	clock = clock.Add(3 * time.Minute)
	_, err = a.Verify(context.Background(), issued.Token)
	assertCode(t, err, sdk.CodeLogin)
	assert.ErrorContains(t, err, "expired")
}

func TestCachedTokenSkipsSignatureCheck(t *testing.T) {
	key := newHubKey(t)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(t, err)
	issued, err := issuer.Issue(TokenRequest{Subject: "s", Roles: []string{"nurse"}, Tenant: "t"})
	require.NoError(t, err)
	a := newAuthenticator(t, Config{}, key, Options{})
	_, err = a.Verify(context.Background(), issued.Token)
	require.NoError(t, err)

	// A key the token does not verify with proves the second call came
	// from the cache.
	a.hubKey = newHubKey(t).Public().(ed25519PublicKey)
	_, err = a.Verify(context.Background(), issued.Token)
	assert.NoError(t, err)
	_, err = a.Verify(context.Background(), issued.Token+"x")
	assert.Error(t, err, "any other text is verified")
}

func TestTokenCacheEvictsWhenFull(t *testing.T) {
	cache := newTokenCache()
	now := time.Now()
	for i := range tokenCacheSize {
		cache.put(fmt.Sprint("token-", i), &Principal{ID: "s"}, now)
	}
	require.Len(t, cache.entries, tokenCacheSize)
	cache.put("one-more", &Principal{ID: "s"}, now)
	assert.LessOrEqual(t, len(cache.entries), tokenCacheSize/2+1)
	_, ok := cache.get("one-more", now)
	assert.True(t, ok)

	cache.put("old", &Principal{ID: "s"}, now.Add(-time.Hour))
	_, ok = cache.get("old", now)
	assert.False(t, ok, "entries older than the cache lifetime are not used")
}
