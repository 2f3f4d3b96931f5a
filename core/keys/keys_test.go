package keys

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadOrCreateWritesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "audit-ed25519.pem")

	key, err := LoadOrCreate(path)
	require.NoError(t, err)

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, err := LoadOrCreate(path)
	require.NoError(t, err)
	assert.True(t, key.Equal(again), "second call must load the same key")

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), "-----BEGIN PRIVATE KEY-----")
}

func TestLoadOrCreateConcurrentCallersAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	const n = 8
	got := make([]ed25519.PrivateKey, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreate(path)
			assert.NoError(t, err)
			got[i] = k
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		assert.True(t, got[0].Equal(got[i]), "caller %d loaded a different key", i)
	}
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	_, err := LoadOrCreate(good)
	require.NoError(t, err)

	open := filepath.Join(dir, "open.pem")
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(open, data, 0o644))

	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))

	tests := []struct {
		name, path, want string
	}{
		{"world readable", open, "chmod 600"},
		{"not pem", garbage, "no PEM"},
		{"missing", filepath.Join(dir, "none.pem"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoadPublicFromEitherForm(t *testing.T) {
	dir := t.TempDir()
	privPath := filepath.Join(dir, "k.pem")
	key, err := LoadOrCreate(privPath)
	require.NoError(t, err)
	pubPath := filepath.Join(dir, "k.pub.pem")
	require.NoError(t, WritePublic(pubPath, key.Public().(ed25519.PublicKey)))

	for _, path := range []string{privPath, pubPath} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			pub, err := LoadPublic(path)
			require.NoError(t, err)
			assert.True(t, pub.Equal(key.Public()))
			assert.Len(t, ID(pub), 16)
		})
	}
}
