package auth

import (
	"slices"
	"sync"
	"time"
)

// Limits of the verified-token cache.
const (
	tokenCacheSize = 10_000
	// tokenCacheTTL caps how long a verification is reused, so that a
	// change of configuration or keys takes effect within it.
	tokenCacheTTL = 5 * time.Minute
)

// tokenCache keeps the principals of tokens whose signature and claims were
// verified, keyed by the exact token text. A client that sends the same
// token again skips the signature check (about 100 µs for EdDSA on a 2-core
// machine) until the token expires. Only successes are cached.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[string]cachedPrincipal
}

type cachedPrincipal struct {
	principal Principal
	until     time.Time
}

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[string]cachedPrincipal{}}
}

// get returns a copy of the cached principal of token, if it is still
// valid at now.
func (c *tokenCache) get(token string, now time.Time) (*Principal, bool) {
	c.mu.RLock()
	entry, ok := c.entries[token]
	c.mu.RUnlock()
	if !ok || !now.Before(entry.until) {
		return nil, false
	}
	p := entry.principal
	p.Roles = slices.Clone(p.Roles)
	p.Scopes = slices.Clone(p.Scopes)
	return &p, true
}

// put caches p for token until the token expires or tokenCacheTTL passes,
// whichever comes first.
func (c *tokenCache) put(token string, p *Principal, now time.Time) {
	until := now.Add(tokenCacheTTL)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
		until = p.ExpiresAt
	}
	entry := cachedPrincipal{principal: *p, until: until}
	entry.principal.Roles = slices.Clone(p.Roles)
	entry.principal.Scopes = slices.Clone(p.Scopes)

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= tokenCacheSize {
		c.evict(now)
	}
	c.entries[token] = entry
}

// evict drops expired entries and, if the cache is still full, an
// arbitrary half of the rest. A dropped token is verified again on its
// next use.
func (c *tokenCache) evict(now time.Time) {
	for token, entry := range c.entries {
		if !now.Before(entry.until) {
			delete(c.entries, token)
		}
	}
	if len(c.entries) < tokenCacheSize {
		return
	}
	drop := len(c.entries) / 2
	for token := range c.entries {
		if drop == 0 {
			break
		}
		delete(c.entries, token)
		drop--
	}
}
