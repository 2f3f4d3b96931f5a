package main_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

// TestPluginBinary builds echo-llm as make build would, loads it through
// the hub's plugin host and runs the chat suite against the subprocess.
func TestPluginBinary(t *testing.T) {
	dir := t.TempDir()
	_, err := plugintest.Build("examples/echo-llm", dir)
	require.NoError(t, err)

	host := plugin.New(plugin.Config{Dir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	require.NoError(t, host.Start(context.Background()))
	provider, err := host.Provider("echo-llm")
	require.NoError(t, err)

	sdktest.Chat(t, func(*testing.T) sdk.ChatModel { return provider.ChatModel }, sdktest.ChatCase{
		Request:     sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: "hello from the plugin test"}}},
		WantContent: []string{"echo: hello from the plugin test"},
	})
}
