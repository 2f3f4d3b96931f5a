package daemon

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/plugin"
)

func TestPluginConfigPutsObjectsInDataDir(t *testing.T) {
	cfg := &config.Config{DataDir: "/srv/hub"}
	got := pluginConfig(cfg)
	assert.JSONEq(t, `{"root":"`+filepath.Join("/srv/hub", "objects")+`"}`, string(got.Plugins["storage-fs"]))
	assert.Nil(t, cfg.Plugins.Plugins, "the caller's configuration is unchanged")

	cfg.Plugins = plugin.Config{Plugins: map[string]json.RawMessage{"storage-fs": json.RawMessage(`{"root":"/mnt/objects"}`), "llm-openai": json.RawMessage(`{}`)}}
	got = pluginConfig(cfg)
	require.Len(t, got.Plugins, 2)
	assert.JSONEq(t, `{"root":"/mnt/objects"}`, string(got.Plugins["storage-fs"]), "an explicit setting wins")
}
