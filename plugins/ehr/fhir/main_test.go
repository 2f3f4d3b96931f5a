package main_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/plugins/ehr/fhir/fhirclient"
	"github.com/healthhub/healthhub/plugins/internal/fhirtest"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

const (
	pluginName = "ehr-fhir"
	clientID   = "hub"
	keyID      = "key-1"
	scope      = "system/*.read system/*.write"
)

// startServer starts a loopback FHIR server that requires SMART backend
// authorization, registers a new RSA client key with it, and returns the
// plugin configuration that reaches it.
func startServer(t *testing.T) (*fhirtest.Server, fhirclient.Config) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))

	server := fhirtest.New()
	t.Cleanup(server.Close)
	server.RegisterClient(clientID, keyID, &key.PublicKey, scope)
	return server, fhirclient.Config{BaseURL: server.BaseURL(), Auth: fhirclient.AuthConfig{
		Type: fhirclient.AuthSMARTBackend, ClientID: clientID, KeyID: keyID, PrivateKeyFile: keyFile, Scope: scope,
	}}
}

func conformanceCase(t *testing.T) sdktest.EHRCase {
	patient, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "fhir-r4-examples", "Patient-example.json"))
	require.NoError(t, err)
	return sdktest.EHRCase{Resource: patient}
}

func openClient(t *testing.T) *fhirclient.Client {
	t.Helper()
	_, cfg := startServer(t)
	c, err := fhirclient.Open(cfg, nil)
	require.NoError(t, err)
	return c
}

// TestConformance runs the EHR suite against the client in process.
func TestConformance(t *testing.T) {
	c := openClient(t)
	sdktest.EHR(t, func(*testing.T) sdk.EHRConnector { return c }, conformanceCase(t))
}

// TestConformanceOverWire runs the EHR suite through the plugin wire
// protocol inside the test process.
func TestConformanceOverWire(t *testing.T) {
	remote := sdktest.Loopback(t, sdk.Provider{Info: fhirclient.Info(), EHR: openClient(t)})
	sdktest.EHR(t, func(*testing.T) sdk.EHRConnector { return remote.EHR }, conformanceCase(t))
}

// TestPluginBinary runs the EHR suite against the plugin as a subprocess
// of the hub's plugin host, so the SMART token flow runs inside the
// plugin.
func TestPluginBinary(t *testing.T) {
	server, cfg := startServer(t)
	dir := t.TempDir()
	_, err := plugintest.Build("plugins/ehr/fhir", dir)
	require.NoError(t, err)
	config, err := json.Marshal(cfg)
	require.NoError(t, err)
	host := plugin.New(plugin.Config{Dir: dir, Plugins: map[string]json.RawMessage{pluginName: config}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	require.NoError(t, host.Start(context.Background()))
	provider, err := host.Provider(pluginName)
	require.NoError(t, err)

	require.NoError(t, host.CheckHealth(context.Background(), pluginName))
	assert.False(t, host.Statuses()[0].DataUse.Egress, "a loopback endpoint is declared without egress")

	sdktest.EHR(t, func(*testing.T) sdk.EHRConnector { return provider.EHR }, conformanceCase(t))
	assert.Equal(t, 1, server.TokenRequests(), "the plugin caches its token across the suite")
}
