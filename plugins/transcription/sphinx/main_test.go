package main_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/plugins/transcription/sphinx/pocketsphinx"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

// TestPluginBinary builds transcription-sphinx as make build would, loads
// it through the hub's plugin host and runs the transcription suite
// against the subprocess.
func TestPluginBinary(t *testing.T) {
	if _, err := exec.LookPath(pocketsphinx.DefaultProgram); err != nil {
		if os.Getenv("HUB_REQUIRE_SPHINX") != "" {
			t.Fatalf("pocketsphinx is not installed and HUB_REQUIRE_SPHINX is set; run scripts/install-deps.sh")
		}
		t.Skip("pocketsphinx is not installed; run scripts/install-deps.sh (set HUB_REQUIRE_SPHINX=1 to fail instead of skipping)")
	}
	dir := t.TempDir()
	_, err := plugintest.Build("plugins/transcription/sphinx", dir)
	require.NoError(t, err)

	host := plugin.New(plugin.Config{Dir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	require.NoError(t, host.Start(context.Background()))
	provider, err := host.Provider("transcription-sphinx")
	require.NoError(t, err)

	assert.False(t, provider.DataUse().Egress, "the plugin declares no egress")
	assert.True(t, provider.Info.HasCapability(sdk.CapabilityStream))
	require.NoError(t, host.CheckHealth(context.Background(), "transcription-sphinx"))

	audio, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "audio", "sense_and_sensibility_01_austen_64kb-0880.wav"))
	require.NoError(t, err)
	sdktest.Transcription(t, func(*testing.T) sdk.Transcriber { return provider.Transcriber }, sdktest.TranscriptionCase{
		Audio:       audio,
		ContentType: "audio/wav",
		Language:    "en-US",
		WantText:    []string{"young man"},
	})
}
