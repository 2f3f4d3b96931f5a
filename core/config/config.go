package config

import (
	"io"
	"log/slog"
	"path/filepath"

	"github.com/healthhub/healthhub/core/api"
	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/jobs"
	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/core/store"
)

// DefaultDataDir is the directory for the database, keys and blobs when
// data_dir is not set.
const DefaultDataDir = "data"

// Config is the whole hub configuration. Each section's type belongs to the
// package that uses it; its field docs give units and defaults.
type Config struct {
	// DataDir is the directory for the database, the signing key, API keys
	// and stored objects. Relative paths are relative to the working
	// directory. Default "data".
	DataDir string `json:"data_dir,omitempty"`
	// Server sets the listen address and timeouts.
	Server api.ServerConfig `json:"server"`
	// Auth sets token issuing and verification and API keys.
	Auth auth.Config `json:"auth"`
	// Limits sets body sizes and rate limits.
	Limits api.LimitsConfig `json:"limits"`
	// Logging sets the log level and format.
	Logging LoggingConfig `json:"logging"`
	// Metrics sets the /metrics endpoint.
	Metrics api.MetricsConfig `json:"metrics"`
	// Plugins sets the plugin directory, each plugin's configuration and
	// supervision.
	Plugins plugin.Config `json:"plugins"`
	// Store selects the resource store's database. Its data_dir defaults
	// to DataDir.
	Store store.Config `json:"store"`
	// Audit selects the audit trail's database, by default the SQLite file
	// audit.db in its data_dir, which defaults to DataDir.
	Audit audit.Config `json:"audit"`
	// Policy sets the policy directory and the settings the policies read.
	Policy policy.Config `json:"policy"`
	// Schema sets the schema directory, strict mode and the parallelism of
	// Bundle validation.
	Schema schema.Config `json:"schema"`
	// Jobs tunes the background job queue, which lives in the store's
	// database.
	Jobs jobs.Config `json:"jobs"`
	// Operations sets the default provider of each provider operation and
	// when an operation runs as a background job.
	Operations api.OperationsConfig `json:"operations"`
}

// DataPath returns the data directory, or DefaultDataDir when none is set.
func (c *Config) DataPath() string {
	if c.DataDir == "" {
		return DefaultDataDir
	}
	return c.DataDir
}

// APIKeysPath returns the API key file: auth.api_keys_file, or apikeys.json
// in the data directory.
func (c *Config) APIKeysPath() string {
	if c.Auth.APIKeysFile != "" {
		return c.Auth.APIKeysFile
	}
	return filepath.Join(c.DataPath(), "apikeys.json")
}

// LoggingConfig is the logging section of the hub configuration.
type LoggingConfig struct {
	// Level is the lowest level logged: "debug", "info", "warn" or
	// "error". Default "info".
	Level string `json:"level,omitempty"`
	// Format is "json" for one JSON object per line, or "text" for
	// key=value lines. Default "json".
	Format string `json:"format,omitempty"`
	// AccessLog logs one line per HTTP request. Default true.
	AccessLog *bool `json:"access_log,omitempty"`
}

// AccessLogEnabled reports whether one line per HTTP request is logged.
func (c LoggingConfig) AccessLogEnabled() bool { return c.AccessLog == nil || *c.AccessLog }

// NewLogger returns a logger writing to w in the configured format and
// level.
func (c LoggingConfig) NewLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	options := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, options))
	}
	return slog.New(slog.NewJSONHandler(w, options))
}
