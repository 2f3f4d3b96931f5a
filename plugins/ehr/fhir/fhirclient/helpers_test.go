package fhirclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/internal/fhirtest"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

var testdataDir = filepath.Join("..", "..", "..", "..", "testdata")

func readTestdata(t testing.TB, parts ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{testdataDir}, parts...)...))
	require.NoError(t, err)
	return data
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey returns a 2048-bit RSA key shared by the tests, because
// generating one takes a noticeable fraction of a second.
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return rsaKey
}

// writeKey writes a private key as PKCS #8 PEM into a temporary file.
func writeKey(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "client.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

func newECKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return key
}

func startServer(t testing.TB) *fhirtest.Server {
	t.Helper()
	server := fhirtest.New()
	t.Cleanup(server.Close)
	return server
}

func openClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := Open(cfg, nil)
	require.NoError(t, err)
	return c
}

func issuesOf(t *testing.T, err error) []sdk.Issue {
	t.Helper()
	var outcome *sdk.Outcome
	require.ErrorAs(t, err, &outcome)
	require.NotEmpty(t, outcome.Issues)
	return outcome.Issues
}

// field decodes one top-level field of a resource.
func field(t *testing.T, resource json.RawMessage, name string) any {
	t.Helper()
	var object map[string]any
	require.NoError(t, json.Unmarshal(resource, &object))
	return object[name]
}

func httpSettings(maxRetries *int) settings.HTTP {
	return settings.HTTP{MaxRetries: maxRetries}
}
