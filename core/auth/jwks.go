package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/healthhub/healthhub/sdk"
)

const (
	// maxJWKSSize bounds a downloaded key set. Real key sets hold a few
	// keys of a few hundred bytes each.
	maxJWKSSize = 1 << 20
	// minRSABits is the smallest RSA modulus accepted for RS256.
	minRSABits = 2048
)

// KeySet holds the signing keys of an external OpenID Connect issuer, read
// from a JWKS file or fetched from a URL. A remote set is fetched again when
// it is older than OIDCConfig.CacheTTL, and when a token names an unknown key
// id, at most once per OIDCConfig.RefreshMinimum. If a fetch fails the keys
// already known stay in use. It is safe for concurrent use.
type KeySet struct {
	url      string
	client   *http.Client
	cfg      OIDCConfig
	logger   *slog.Logger
	now      func() time.Time
	refresh  sync.Mutex // serialises fetches
	mu       sync.RWMutex
	keys     map[string][]jose.JSONWebKey // by key id
	fetched  time.Time                    // when keys were last replaced
	lastTry  time.Time                    // when a fetch was last started
	lastFail error                        // the error of the last fetch, or nil
}

// LoadKeySetFile reads a JSON Web Key Set from a file.
func LoadKeySetFile(path string, logger *slog.Logger) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load JWKS file: %w", err)
	}
	keys, err := parseKeySet(data, logger)
	if err != nil {
		return nil, fmt.Errorf("load JWKS file %s: %w", path, err)
	}
	return &KeySet{keys: keys, logger: logger, now: time.Now}, nil
}

// NewRemoteKeySet returns a key set fetched from cfg.JWKSURL with client.
// It fetches once before returning. If that fails, the error is logged and
// the set stays empty until a later fetch succeeds. The hub can thus start
// while the issuer is down, and rejects that issuer's tokens with 503
// meanwhile.
func NewRemoteKeySet(ctx context.Context, cfg OIDCConfig, client *http.Client, logger *slog.Logger) *KeySet {
	ks := &KeySet{url: cfg.JWKSURL, client: client, cfg: cfg, logger: logger, now: time.Now, keys: map[string][]jose.JSONWebKey{}}
	if err := ks.fetch(ctx); err != nil {
		logger.Warn("fetch JWKS failed; retrying on first use", "url", cfg.JWKSURL, "error", err)
	}
	return ks
}

// Key returns the public key with id kid that verifies algorithm alg. An
// empty kid matches when the set has exactly one key for alg.
func (ks *KeySet) Key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (any, error) {
	if ks.url != "" && ks.stale() {
		ks.tryFetch(ctx, ks.cfg.CacheTTL.Or(DefaultJWKSCacheTTL))
	}
	if key, ok := ks.lookup(kid, alg); ok {
		return key, nil
	}
	if ks.url == "" {
		return nil, loginError("no key with id %q for %s in the issuer's key set", kid, alg)
	}

	ks.tryFetch(ctx, ks.cfg.RefreshMinimum.Or(DefaultJWKSRefreshMinimum))
	if key, ok := ks.lookup(kid, alg); ok {
		return key, nil
	}
	ks.mu.RLock()
	empty, lastFail := len(ks.keys) == 0, ks.lastFail
	ks.mu.RUnlock()
	if empty && lastFail != nil {
		o := sdk.Errorf(sdk.CodeTransient, "authenticate: signing keys of the external issuer are unavailable: %v", lastFail)
		return nil, o.WithSource(sdk.SourceUpstream)
	}
	return nil, loginError("no key with id %q for %s in the issuer's key set", kid, alg)
}

func (ks *KeySet) stale() bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.now().Sub(ks.fetched) > ks.cfg.CacheTTL.Or(DefaultJWKSCacheTTL)
}

// tryFetch fetches the set unless a fetch started less than interval ago.
func (ks *KeySet) tryFetch(ctx context.Context, interval time.Duration) {
	ks.refresh.Lock()
	defer ks.refresh.Unlock()
	ks.mu.RLock()
	recent := !ks.lastTry.IsZero() && ks.now().Sub(ks.lastTry) < interval
	ks.mu.RUnlock()
	if recent {
		return
	}
	if err := ks.fetch(ctx); err != nil {
		ks.logger.Warn("fetch JWKS failed; keeping the keys already known", "url", ks.url, "error", err)
	}
}

func (ks *KeySet) fetch(ctx context.Context) error {
	ks.mu.Lock()
	ks.lastTry = ks.now()
	ks.mu.Unlock()

	keys, err := ks.download(ctx)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.lastFail = err
	if err != nil {
		return err
	}
	ks.keys = keys
	ks.fetched = ks.now()
	ks.logger.Info("fetched JWKS", "url", ks.url, "keys", len(keys))
	return nil
}

func (ks *KeySet) download(ctx context.Context) (map[string][]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, ks.cfg.FetchTimeout.Or(DefaultJWKSFetchTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: status %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: read body: %w", err)
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("fetch JWKS: body larger than %d bytes", maxJWKSSize)
	}
	return parseKeySet(data, ks.logger)
}

func (ks *KeySet) lookup(kid string, alg jose.SignatureAlgorithm) (any, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	var candidates []jose.JSONWebKey
	if kid != "" {
		candidates = ks.keys[kid]
	} else {
		for _, keys := range ks.keys {
			candidates = append(candidates, keys...)
		}
	}

	var found []any
	for _, jwk := range candidates {
		if (jwk.Algorithm == "" || jwk.Algorithm == string(alg)) && keyFits(jwk.Key, alg) {
			found = append(found, jwk.Key)
		}
	}
	if len(found) != 1 {
		return nil, false
	}
	return found[0], true
}

// keyFits reports whether key can verify alg: RS256 needs an RSA key of at
// least 2048 bits, ES256 a P-256 key.
func keyFits(key any, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == jose.RS256 && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return alg == jose.ES256 && k.Curve == elliptic.P256()
	}
	return false
}

// parseKeySet decodes a JWKS document key by key, so that one key of a type
// the hub does not use (an encryption key, a symmetric key) does not make
// the whole set unusable. Only public signature keys are kept.
func parseKeySet(data []byte, logger *slog.Logger) (map[string][]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`parse JWKS: no "keys" array`)
	}

	keys := map[string][]jose.JSONWebKey{}
	for i, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			logger.Warn("skipping JWKS key that cannot be parsed", "index", i, "error", err)
			continue
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			continue
		}
		public := jwk.Public()
		if !public.Valid() {
			continue
		}
		keys[public.KeyID] = append(keys[public.KeyID], public)
	}
	return keys, nil
}
