package main_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/plugins/internal/openaitest"
	"github.com/healthhub/healthhub/plugins/llm/openai/openaichat"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

const (
	pluginName = "llm-openai"
	apiKey     = "sk-plugin-test"
	model      = "llama3.2"
)

var conformanceCase = sdktest.ChatCase{
	Request:     sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: "list the patient's current medications"}}},
	WantContent: []string{"you said: list the patient's current medications"},
}

func openModel(t *testing.T) *openaichat.Model {
	t.Helper()
	server := openaitest.New(apiKey, model)
	t.Cleanup(server.Close)
	m, err := openaichat.Open(openaichat.Config{
		Connection: openaiapi.Connection{Endpoint: server.BaseURL(), APIKey: apiKey},
		Model:      model,
	}, nil)
	require.NoError(t, err)
	return m
}

// TestConformance runs the chat suite against the model in process.
func TestConformance(t *testing.T) {
	m := openModel(t)
	sdktest.Chat(t, func(*testing.T) sdk.ChatModel { return m }, conformanceCase)
}

// TestConformanceOverWire runs the chat suite through the plugin wire
// protocol inside the test process.
func TestConformanceOverWire(t *testing.T) {
	remote := sdktest.Loopback(t, sdk.Provider{Info: openaichat.Info(), ChatModel: openModel(t)})
	sdktest.Chat(t, func(*testing.T) sdk.ChatModel { return remote.ChatModel }, conformanceCase)
}

// startPlugin builds the plugin binary, launches it through the hub's
// plugin host configured for server, and returns the provider.
func startPlugin(t *testing.T, server *openaitest.Server) (*plugin.Host, sdk.Provider) {
	t.Helper()
	dir := t.TempDir()
	_, err := plugintest.Build("plugins/llm/openai", dir)
	require.NoError(t, err)

	config, err := json.Marshal(map[string]any{"endpoint": server.BaseURL(), "api_key": apiKey, "model": model, "stream_idle_timeout": "20s"})
	require.NoError(t, err)
	host := plugin.New(plugin.Config{Dir: dir, Plugins: map[string]json.RawMessage{pluginName: config}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { host.Close() })
	require.NoError(t, host.Start(context.Background()))
	provider, err := host.Provider(pluginName)
	require.NoError(t, err)
	return host, provider
}

// TestPluginBinary runs the chat conformance suite against the plugin as a
// subprocess of the hub's plugin host, with the loopback server as
// upstream.
func TestPluginBinary(t *testing.T) {
	server := openaitest.New(apiKey, model)
	defer server.Close()
	host, provider := startPlugin(t, server)

	require.NoError(t, host.CheckHealth(context.Background(), pluginName))
	statuses := host.Statuses()
	require.Len(t, statuses, 1)
	assert.False(t, statuses[0].DataUse.Egress, "a loopback endpoint is declared without egress")

	sdktest.Chat(t, func(*testing.T) sdk.ChatModel { return provider.ChatModel }, conformanceCase)
}

// TestPluginStreamsThroughHost proves that deltas cross the plugin
// boundary as they arrive: the test receives the early tokens while the
// upstream server still holds back the last one.
func TestPluginStreamsThroughHost(t *testing.T) {
	server := openaitest.New(apiKey, model)
	defer server.Close()
	server.Hold = make(chan struct{})
	_, provider := startPlugin(t, server)
	streamer, ok := provider.ChatModel.(sdk.ChatStreamer)
	require.True(t, ok, "the plugin declares the stream capability")

	deltas := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		_, err := streamer.ChatStream(context.Background(), sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: "one two three"}}},
			func(d sdk.ChatDelta) error { deltas <- d.Content; return nil })
		done <- err
	}()

	for _, want := range []string{"You", " said:", " one", " two"} {
		select {
		case got := <-deltas:
			assert.Equal(t, want, got)
		case err := <-done:
			t.Fatalf("stream ended before the held token was released: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("no delta crossed the plugin boundary while the server held the last token")
		}
	}
	close(server.Hold)
	require.NoError(t, <-done)
	assert.Equal(t, " three", <-deltas)
}
