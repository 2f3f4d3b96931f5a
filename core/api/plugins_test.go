package api

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/sdk"
)

// barrierHost is a plugin host whose health checks each wait until every
// plugin's check has started, so that they pass only when run concurrently.
type barrierHost struct {
	names   []string
	mu      sync.Mutex
	started int
	all     chan struct{}
}

func (h *barrierHost) Statuses() []plugin.Status {
	out := make([]plugin.Status, len(h.names))
	for i, name := range h.names {
		out[i] = plugin.Status{Name: name, Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindLLM}, State: plugin.StateRunning}
	}
	return out
}

func (h *barrierHost) LoadFailures() []plugin.LoadFailure { return nil }

func (h *barrierHost) CheckHealth(ctx context.Context, name string) error {
	h.mu.Lock()
	h.started++
	if h.started == len(h.names) {
		close(h.all)
	}
	h.mu.Unlock()
	select {
	case <-h.all:
		if name == "vendor-down" {
			return fmt.Errorf("dial tcp 127.0.0.1:11434: connection refused")
		}
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("health check of %s waited for the others", name)
	}
}

func TestPluginStatusesCheckConcurrently(t *testing.T) {
	host := &barrierHost{names: []string{"echo-llm", "vendor-down", "word-count"}, all: make(chan struct{})}
	statuses := pluginStatuses(context.Background(), host)
	require.Len(t, statuses, 3)
	assert.Equal(t, "ok", statuses[0].Health, statuses[0].Error)
	assert.Equal(t, "unhealthy", statuses[1].Health)
	assert.Contains(t, statuses[1].Error, "connection refused")
	assert.Equal(t, "ok", statuses[2].Health, statuses[2].Error)
}

func TestNotLoadedPluginsShowWhyToAdmins(t *testing.T) {
	failures := []plugin.LoadFailure{{
		Name: "storage-fs", Version: "0.1.0", Kinds: []sdk.Kind{sdk.KindStorage},
		Error: `verify plugin "storage-fs": checksum mismatch: binary /opt/hub/plugins/storage-fs/storage-fs is d29c`,
	}}

	listed := notLoaded(failures, true)
	require.Len(t, listed, 1)
	assert.Equal(t, "storage-fs", listed[0].Name)
	assert.Equal(t, "not_loaded", listed[0].State)
	assert.Equal(t, "unhealthy", listed[0].Health)
	assert.Contains(t, listed[0].Error, "checksum mismatch")

	listed = notLoaded(failures, false)
	require.Len(t, listed, 1)
	assert.Equal(t, "not_loaded", listed[0].State)
	assert.NotContains(t, listed[0].Error, "/opt/hub", "other roles do not see the server's paths")
}
