package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// APIKeyPrefix starts every API key, so that a key is distinguished from a
// JWT and found by secret scanners.
const APIKeyPrefix = "hhk_"

// statInterval is how often Verify checks whether another process (such as
// "hub apikey revoke") changed the key file. An unknown key id makes it
// check at once.
const statInterval = 2 * time.Second

// APIKey is a service account key as stored: its id and the SHA-256 of its
// secret, never the secret itself.
type APIKey struct {
	// ID is the public part of the key, shown by "hub apikey list".
	ID string `json:"id"`
	// Hash is the lowercase hex SHA-256 of the secret part.
	Hash string `json:"sha256"`
	// Subject is the service account's id.
	Subject string   `json:"subject"`
	Roles   []string `json:"roles"`
	Tenant  string   `json:"tenant"`
	Scopes  []string `json:"scopes,omitempty"`
	// Description is a note on what the key is for.
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// APIKeySpec describes a key to create.
type APIKeySpec struct {
	Subject     string
	Roles       []string
	Tenant      string
	Scopes      []string
	Description string
	// TTL is the key's lifetime; zero means it does not expire.
	TTL time.Duration
}

// KeyStore keeps API keys in a JSON file, readable and writable by the hub's
// user only. Several processes may use one file: writes replace it
// atomically, and Verify reloads it when it changes. It is safe for
// concurrent use.
type KeyStore struct {
	path    string
	mu      sync.RWMutex
	keys    map[string]APIKey
	modTime time.Time
	checked time.Time
}

// OpenKeyStore reads the key file at path. A missing file is an empty store;
// it is created on the first Create.
func OpenKeyStore(path string) (*KeyStore, error) {
	s := &KeyStore{path: path}
	if err := s.reload(time.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// IsAPIKey reports whether credential has the form of an API key.
func IsAPIKey(credential string) bool { return strings.HasPrefix(credential, APIKeyPrefix) }

// Create makes a key for spec, stores its hash and returns the key. The
// key is shown to the caller once: the store cannot recover it.
func (s *KeyStore) Create(spec APIKeySpec, now time.Time) (string, APIKey, error) {
	principal := Principal{ID: spec.Subject, Roles: spec.Roles, Tenant: spec.Tenant}
	if err := principal.check(); err != nil {
		return "", APIKey{}, fmt.Errorf("create API key: %w", err)
	}
	if principal.HasRole(RolePatient) {
		return "", APIKey{}, errors.New("create API key: role patient is for people, not service accounts: issue a token instead")
	}
	if spec.TTL < 0 {
		return "", APIKey{}, errors.New("create API key: ttl must not be negative")
	}

	idBytes, secretBytes := make([]byte, 8), make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return "", APIKey{}, fmt.Errorf("create API key: %w", err)
	}
	if _, err := rand.Read(secretBytes); err != nil {
		return "", APIKey{}, fmt.Errorf("create API key: %w", err)
	}
	id := hex.EncodeToString(idBytes)
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	record := APIKey{
		ID: id, Hash: hashSecret(secret), Subject: spec.Subject, Roles: spec.Roles, Tenant: spec.Tenant,
		Scopes: spec.Scopes, Description: spec.Description, CreatedAt: now.UTC(),
	}
	if spec.TTL > 0 {
		record.ExpiresAt = now.Add(spec.TTL).UTC()
	}

	err := s.update(now, func(keys map[string]APIKey) error {
		keys[id] = record
		return nil
	})
	if err != nil {
		return "", APIKey{}, fmt.Errorf("create API key: %w", err)
	}
	return APIKeyPrefix + id + "_" + secret, record, nil
}

// Revoke deletes the key with id. It returns an error matching
// sdk.ErrNotFound when there is none.
func (s *KeyStore) Revoke(id string, now time.Time) error {
	return s.update(now, func(keys map[string]APIKey) error {
		if _, ok := keys[id]; !ok {
			return sdk.NotFoundf("revoke API key: no key with id %q: see hub apikey list", id)
		}
		delete(keys, id)
		return nil
	})
}

// List returns the stored keys ordered by creation time.
func (s *KeyStore) List() []APIKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]APIKey, 0, len(s.keys))
	for _, key := range s.keys {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b APIKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return keys
}

// Verify checks an API key and returns the service account's principal.
func (s *KeyStore) Verify(credential string, now time.Time) (*Principal, error) {
	id, secret, ok := strings.Cut(strings.TrimPrefix(credential, APIKeyPrefix), "_")
	if !ok || id == "" || secret == "" {
		return nil, loginError("API key is malformed: want %s<id>_<secret>", APIKeyPrefix)
	}
	s.maybeReload(now)

	record, found := s.lookup(id)
	if !found {
		// A key created a moment ago by another process: check the file
		// now instead of at the next interval. A stat is cheap, and the
		// file is read again only when it changed.
		_ = s.reload(now)
		record, found = s.lookup(id)
	}
	// Compare against a fixed hash when the id is unknown, so that the
	// time taken does not tell whether an id exists.
	want := record.Hash
	if !found {
		want = hashSecret("")
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(want)) != 1 || !found {
		return nil, loginError("API key %s is not valid: it is unknown, revoked or mistyped", id)
	}
	if !record.ExpiresAt.IsZero() && !now.Before(record.ExpiresAt) {
		return nil, loginError("API key %s expired at %s: create a new one", id, record.ExpiresAt.Format(time.RFC3339))
	}
	return &Principal{
		ID: record.Subject, Roles: record.Roles, Tenant: record.Tenant, Scopes: record.Scopes,
		Method: MethodAPIKey, CredentialID: id, ExpiresAt: record.ExpiresAt,
	}, nil
}

func (s *KeyStore) lookup(id string) (APIKey, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	record, found := s.keys[id]
	return record, found
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *KeyStore) maybeReload(now time.Time) {
	s.mu.RLock()
	due := now.Sub(s.checked) >= statInterval
	s.mu.RUnlock()
	if !due {
		return
	}
	// A failed reload keeps the keys already loaded; the next check retries.
	_ = s.reload(now)
}

// reload reads the file if its modification time changed.
func (s *KeyStore) reload(now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked = now
	info, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.keys, s.modTime = map[string]APIKey{}, time.Time{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read API keys: %w", err)
	}
	if s.keys != nil && info.ModTime().Equal(s.modTime) {
		return nil
	}
	keys, err := readKeyFile(s.path)
	if err != nil {
		return err
	}
	s.keys, s.modTime = keys, info.ModTime()
	return nil
}

// update rereads the file, applies change and writes the file back.
func (s *KeyStore) update(now time.Time, change func(map[string]APIKey) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := readKeyFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		keys, err = map[string]APIKey{}, nil
	}
	if err != nil {
		return err
	}
	if err := change(keys); err != nil {
		return err
	}
	if err := writeKeyFile(s.path, keys); err != nil {
		return err
	}
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	s.keys, s.modTime, s.checked = keys, info.ModTime(), now
	return nil
}

type keyFile struct {
	Keys []APIKey `json:"keys"`
}

func readKeyFile(path string) (map[string]APIKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	var file keyFile
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("read API keys %s: %w", path, err)
	}
	keys := make(map[string]APIKey, len(file.Keys))
	for _, key := range file.Keys {
		keys[key.ID] = key
	}
	return keys, nil
}

// writeKeyFile replaces the file atomically: a temporary file in the same
// directory, fsync, rename.
func writeKeyFile(path string, keys map[string]APIKey) error {
	file := keyFile{Keys: make([]APIKey, 0, len(keys))}
	for _, key := range keys {
		file.Keys = append(file.Keys, key)
	}
	slices.SortFunc(file.Keys, func(a, b APIKey) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".apikeys-*")
	if err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write API keys: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write API keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write API keys: %w", err)
	}
	return nil
}
