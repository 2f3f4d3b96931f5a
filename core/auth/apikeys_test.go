package auth

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func TestAPIKeyCreateAndAuthenticate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apikeys.json")
	store, err := OpenKeyStore(path)
	require.NoError(t, err)
	key, record, err := store.Create(APIKeySpec{
		Subject: "lab-importer", Roles: []string{"service"}, Tenant: "north",
		Scopes: []string{"system/Observation.c"}, Description: "nightly lab feed",
	}, time.Now())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(key, APIKeyPrefix+record.ID+"_"))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	secret := strings.TrimPrefix(key, APIKeyPrefix+record.ID+"_")
	assert.NotContains(t, string(data), secret, "the key file must hold only the hash")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	a := newAuthenticator(t, Config{}, newHubKey(t), Options{APIKeys: store})
	p, err := a.Authenticate(context.Background(), requestWith("Bearer "+key, nil))
	require.NoError(t, err)
	assert.Equal(t, "lab-importer", p.ID)
	assert.Equal(t, "north", p.Tenant)
	assert.Equal(t, []string{"service"}, p.Roles)
	assert.Equal(t, []string{"system/Observation.c"}, p.Scopes)
	assert.Equal(t, MethodAPIKey, p.Method)
	assert.Equal(t, record.ID, p.CredentialID)
}

func TestAPIKeyRejections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apikeys.json")
	store, err := OpenKeyStore(path)
	require.NoError(t, err)
	now := time.Now()
	key, record, err := store.Create(APIKeySpec{Subject: "svc", Roles: []string{"service"}, Tenant: "t"}, now)
	require.NoError(t, err)
	short, _, err := store.Create(APIKeySpec{Subject: "svc", Roles: []string{"service"}, Tenant: "t", TTL: time.Minute}, now)
	require.NoError(t, err)

	tests := []struct {
		name string
		key  string
		at   time.Time
		want string
	}{
		{"wrong secret", key[:len(key)-2] + "xx", now, "not valid"},
		{"unknown id", APIKeyPrefix + "0000000000000000_" + strings.SplitN(key, "_", 3)[2], now, "not valid"},
		{"malformed", APIKeyPrefix + "nounderscore", now, "malformed"},
		{"expired", short, now.Add(2 * time.Minute), "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Verify(tc.key, tc.at)
			assertCode(t, err, sdk.CodeLogin)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	require.NoError(t, store.Revoke(record.ID, now))
	_, err = store.Verify(key, now)
	assertCode(t, err, sdk.CodeLogin)
	assert.ErrorIs(t, store.Revoke(record.ID, now), sdk.ErrNotFound)
}

func TestAPIKeyChangesFromAnotherProcessAreSeen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apikeys.json")
	daemon, err := OpenKeyStore(path)
	require.NoError(t, err)
	cli, err := OpenKeyStore(path)
	require.NoError(t, err)

	now := time.Now()
	key, record, err := cli.Create(APIKeySpec{Subject: "svc", Roles: []string{"service"}, Tenant: "t"}, now)
	require.NoError(t, err)
	_, err = daemon.Verify(key, now.Add(statInterval))
	require.NoError(t, err, "a key created by another process works after the next check")

	require.NoError(t, cli.Revoke(record.ID, now))
	_, err = daemon.Verify(key, now.Add(2*statInterval))
	assertCode(t, err, sdk.CodeLogin)
}

func TestAPIKeyCreateRejectsBadSpecs(t *testing.T) {
	store, err := OpenKeyStore(filepath.Join(t.TempDir(), "apikeys.json"))
	require.NoError(t, err)
	tests := []struct {
		name string
		spec APIKeySpec
		want string
	}{
		{"no tenant", APIKeySpec{Subject: "svc", Roles: []string{"service"}}, "no tenant"},
		{"patient role", APIKeySpec{Subject: "svc", Roles: []string{"patient"}, Tenant: "t"}, "patient"},
		{"negative ttl", APIKeySpec{Subject: "svc", Roles: []string{"service"}, Tenant: "t", TTL: -time.Second}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := store.Create(tc.spec, time.Now())
			assert.ErrorContains(t, err, tc.want)
		})
	}
	assert.Empty(t, store.List())
}

func TestAPIKeysDisabled(t *testing.T) {
	a := newAuthenticator(t, Config{}, newHubKey(t), Options{})
	_, err := a.Authenticate(context.Background(), requestWith("Bearer "+APIKeyPrefix+"abc_def", nil))
	assertCode(t, err, sdk.CodeLogin)
	assert.Contains(t, err.Error(), "not enabled")
}

func TestAPIKeyCreatedElsewhereWorksAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apikeys.json")
	daemon, err := OpenKeyStore(path)
	require.NoError(t, err)
	cli, err := OpenKeyStore(path)
	require.NoError(t, err)

	now := time.Now()
	_, err = daemon.Verify(APIKeyPrefix+"0000000000000000_x", now)
	require.Error(t, err)
	key, _, err := cli.Create(APIKeySpec{Subject: "svc", Roles: []string{"service"}, Tenant: "t"}, now)
	require.NoError(t, err)
	_, err = daemon.Verify(key, now)
	assert.NoError(t, err)
}
