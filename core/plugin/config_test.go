package plugin

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	s := Config{}.settings()
	assert.Equal(t, DefaultDir, s.dir)
	assert.Equal(t, DefaultCallTimeout, s.callTimeout)
	assert.Equal(t, DefaultStartTimeout, s.startTimeout)
	assert.Equal(t, DefaultHealthTimeout, s.healthTimeout)
	assert.Equal(t, DefaultInitialBackoff, s.initialBackoff)
	assert.Equal(t, DefaultMaxBackoff, s.maxBackoff)
	assert.Equal(t, DefaultMaxCrashes, s.maxCrashes)
	assert.Equal(t, DefaultCrashWindow, s.crashWindow)
}

func TestConfigFromJSON(t *testing.T) {
	var cfg Config
	err := json.Unmarshal([]byte(`{
		"dir": "/opt/hub/plugins",
		"plugins": {"storage-fs": {"root": "/var/lib/hub"}},
		"call_timeout": "90s",
		"restart": {"initial_backoff": "250ms", "max_crashes": 2}
	}`), &cfg)
	require.NoError(t, err)
	s := cfg.settings()
	assert.Equal(t, "/opt/hub/plugins", s.dir)
	assert.JSONEq(t, `{"root": "/var/lib/hub"}`, string(s.plugins["storage-fs"]))
	assert.Equal(t, 90*time.Second, s.callTimeout)
	assert.Equal(t, 250*time.Millisecond, s.initialBackoff)
	assert.Equal(t, 2, s.maxCrashes)
	assert.Equal(t, DefaultMaxBackoff, s.maxBackoff, "unset fields keep their default")
	assert.Equal(t, Duration(0), cfg.Restart.MaxBackoff, "defaults are not written back")

	out, err := json.Marshal(cfg.CallTimeout)
	require.NoError(t, err)
	assert.Equal(t, `"1m30s"`, string(out))
}

func TestConfigRejectsBadDuration(t *testing.T) {
	for _, raw := range []string{`{"call_timeout": "soon"}`, `{"call_timeout": 30}`} {
		var cfg Config
		err := json.Unmarshal([]byte(raw), &cfg)
		assert.Error(t, err, raw)
	}
}

func TestNegativeCallTimeoutDisablesDeadline(t *testing.T) {
	s := Config{CallTimeout: Duration(-1)}.settings()
	assert.Negative(t, s.callTimeout)
}
