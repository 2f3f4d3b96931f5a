package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/plugins/internal/openaitest"
	"github.com/healthhub/healthhub/plugins/transcription/openai/openaistt"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

const (
	pluginName = "transcription-openai"
	apiKey     = "sk-plugin-test"
	model      = "whisper-1"
	// transcript is the text synthesized into the test clip: the
	// conclusion of the FHIR R4 example DiagnosticReport f201.
	transcript = "CT brains: large tumor sphenoid/clivus."
)

// startServer reads the espeak clip from testdata and starts a loopback
// server that returns its transcript.
func startServer(t *testing.T) (*openaitest.Server, []byte) {
	t.Helper()
	audio, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "audio", "espeak-DiagnosticReport-f201-conclusion-22k.wav"))
	require.NoError(t, err)
	server := openaitest.New(apiKey, model)
	t.Cleanup(server.Close)
	sum := sha256.Sum256(audio)
	server.AddTranscript(hex.EncodeToString(sum[:]), transcript)
	return server, audio
}

func conformanceCase(audio []byte) sdktest.TranscriptionCase {
	return sdktest.TranscriptionCase{Audio: audio, ContentType: "audio/wav", WantText: []string{"large tumor sphenoid"}}
}

func openTranscriber(t *testing.T, server *openaitest.Server) *openaistt.Transcriber {
	t.Helper()
	tr, err := openaistt.Open(openaistt.Config{
		Connection: openaiapi.Connection{Endpoint: server.BaseURL(), APIKey: apiKey},
		Model:      model,
	}, nil)
	require.NoError(t, err)
	return tr
}

// TestConformance runs the transcription suite against the transcriber in
// process.
func TestConformance(t *testing.T) {
	server, audio := startServer(t)
	tr := openTranscriber(t, server)
	sdktest.Transcription(t, func(*testing.T) sdk.Transcriber { return tr }, conformanceCase(audio))
}

// TestConformanceOverWire runs the transcription suite through the plugin
// wire protocol inside the test process.
func TestConformanceOverWire(t *testing.T) {
	server, audio := startServer(t)
	remote := sdktest.Loopback(t, sdk.Provider{Info: openaistt.Info(), Transcriber: openTranscriber(t, server)})
	sdktest.Transcription(t, func(*testing.T) sdk.Transcriber { return remote.Transcriber }, conformanceCase(audio))
}

// TestPluginBinary runs the transcription suite against the plugin as a
// subprocess of the hub's plugin host, with the loopback server as
// upstream.
func TestPluginBinary(t *testing.T) {
	server, audio := startServer(t)
	dir := t.TempDir()
	_, err := plugintest.Build("plugins/transcription/openai", dir)
	require.NoError(t, err)
	config, err := json.Marshal(map[string]any{"endpoint": server.BaseURL(), "api_key": apiKey, "model": model, "language": "en-US"})
	require.NoError(t, err)
	host := plugin.New(plugin.Config{Dir: dir, Plugins: map[string]json.RawMessage{pluginName: config}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	require.NoError(t, host.Start(context.Background()))
	provider, err := host.Provider(pluginName)
	require.NoError(t, err)

	require.NoError(t, host.CheckHealth(context.Background(), pluginName))
	assert.False(t, host.Statuses()[0].DataUse.Egress, "a loopback endpoint is declared without egress")

	sdktest.Transcription(t, func(*testing.T) sdk.Transcriber { return provider.Transcriber }, conformanceCase(audio))
	assert.Equal(t, "en", server.LastTranscription().Language, "the configured language reached the server")
}
