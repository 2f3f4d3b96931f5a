package plugin

import (
	"encoding/json"
	"fmt"
	"time"
)

// Config configures a Host. The zero value is usable: every field has a
// documented default, applied without changing the caller's struct.
type Config struct {
	// Dir is the plugin directory: one subdirectory per plugin, holding
	// its manifest.json, binary and optional config schema. Default:
	// "bin/plugins". Start reads it; Register works without it.
	Dir string `json:"dir,omitempty"`
	// Plugins maps a plugin name to its configuration object, passed to
	// the plugin's Configure. A plugin without an entry gets the
	// default_config of its manifest.
	Plugins map[string]json.RawMessage `json:"plugins,omitempty"`
	// CallTimeout is the deadline of each provider call that reaches the
	// host without an earlier one, such as "60s". A call that returns a
	// stream (Storage.Get) must be finished within it too. Default: 5m;
	// "0s" is replaced by the default, and a negative value turns the
	// deadline off.
	CallTimeout Duration `json:"call_timeout,omitempty"`
	// StartTimeout bounds a plugin's launch: process start, handshake,
	// Describe and Configure. Default: 30s.
	StartTimeout Duration `json:"start_timeout,omitempty"`
	// HealthTimeout bounds one health check. Default: 5s.
	HealthTimeout Duration `json:"health_timeout,omitempty"`
	// Restart configures restarts after a plugin crashes.
	Restart RestartConfig `json:"restart"`
}

// RestartConfig configures how the host restarts plugins that exit
// without being asked to.
type RestartConfig struct {
	// InitialBackoff is the wait before the first restart after a crash.
	// Default: 100ms.
	InitialBackoff Duration `json:"initial_backoff,omitempty"`
	// MaxBackoff caps the wait, which doubles with each crash counted in
	// the current window. Default: 30s.
	MaxBackoff Duration `json:"max_backoff,omitempty"`
	// MaxCrashes is how many crashes (or failed restarts) within
	// CrashWindow open the circuit breaker: the host stops restarting the
	// plugin and reports it unhealthy until Restart is called. Default: 5.
	MaxCrashes int `json:"max_crashes,omitempty"`
	// CrashWindow is the sliding window in which crashes are counted.
	// Default: 1m.
	CrashWindow Duration `json:"crash_window,omitempty"`
}

// Defaults of Config.
const (
	DefaultDir            = "bin/plugins"
	DefaultCallTimeout    = 5 * time.Minute
	DefaultStartTimeout   = 30 * time.Second
	DefaultHealthTimeout  = 5 * time.Second
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMaxCrashes     = 5
	DefaultCrashWindow    = time.Minute
)

// settings is Config with the defaults applied.
type settings struct {
	dir            string
	plugins        map[string]json.RawMessage
	callTimeout    time.Duration
	startTimeout   time.Duration
	healthTimeout  time.Duration
	initialBackoff time.Duration
	maxBackoff     time.Duration
	maxCrashes     int
	crashWindow    time.Duration
}

func (c Config) settings() settings {
	s := settings{
		dir:            c.Dir,
		plugins:        c.Plugins,
		callTimeout:    c.CallTimeout.or(DefaultCallTimeout),
		startTimeout:   c.StartTimeout.or(DefaultStartTimeout),
		healthTimeout:  c.HealthTimeout.or(DefaultHealthTimeout),
		initialBackoff: c.Restart.InitialBackoff.or(DefaultInitialBackoff),
		maxBackoff:     c.Restart.MaxBackoff.or(DefaultMaxBackoff),
		maxCrashes:     c.Restart.MaxCrashes,
		crashWindow:    c.Restart.CrashWindow.or(DefaultCrashWindow),
	}
	if s.dir == "" {
		s.dir = DefaultDir
	}
	if s.maxCrashes <= 0 {
		s.maxCrashes = DefaultMaxCrashes
	}
	return s
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string, such as "1m30s".
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "250ms" or "2m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\": %w", err)
	}
	parsed, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q; use a form such as \"30s\" or \"5m\": %w", s, err)
	}
	*d = Duration(parsed)
	return nil
}

// or returns d, or def when d is zero.
func (d Duration) or(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}
