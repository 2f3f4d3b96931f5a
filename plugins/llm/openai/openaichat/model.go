package openaichat

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"

	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Name and Version identify the provider.
const (
	Name    = "llm-openai"
	Version = "0.1.0"
)

// Info returns the description of the llm-openai provider. Its DataUse is
// the cautious declaration that applies before Configure; the configured
// Model reports the real one through DataUse.
func Info() sdk.Info {
	return sdk.Info{
		Name:            Name,
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindLLM},
		ProtocolVersion: sdk.ProtocolVersion,
		Capabilities:    []string{sdk.CapabilityStream},
		DataUse:         sdk.DataUse{Egress: true, RetentionDays: -1},
	}
}

// Model is an OpenAI-compatible chat model. It implements sdk.ChatModel,
// sdk.ChatStreamer, sdk.Configurer, sdk.DataUseReporter and
// sdk.HealthChecker, and is safe for concurrent use. Calls before the first
// successful configuration fail with an invalid outcome.
type Model struct {
	logger *slog.Logger
	state  atomic.Pointer[state]
}

// state is everything a configuration produces, swapped in as a whole.
type state struct {
	cfg     Config
	service *openaiapi.Service
}

var (
	_ sdk.ChatModel       = (*Model)(nil)
	_ sdk.ChatStreamer    = (*Model)(nil)
	_ sdk.Configurer      = (*Model)(nil)
	_ sdk.DataUseReporter = (*Model)(nil)
	_ sdk.HealthChecker   = (*Model)(nil)
)

// New returns an unconfigured Model. A nil logger discards logs.
func New(logger *slog.Logger) *Model {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Model{logger: logger}
}

// Open returns a Model configured with cfg, for Go programs that embed the
// provider in-process.
func Open(cfg Config, logger *slog.Logger) (*Model, error) {
	m := New(logger)
	if err := m.Apply(cfg); err != nil {
		return nil, err
	}
	return m, nil
}

// Configure decodes the plugin's configuration object and applies it. It
// makes no network calls.
func (m *Model) Configure(_ context.Context, raw json.RawMessage) error {
	var cfg Config
	if err := settings.Decode(raw, &cfg, Name); err != nil {
		return err
	}
	return m.Apply(cfg)
}

// Apply checks cfg and makes it the Model's configuration. On error the
// previous configuration stays in force.
func (m *Model) Apply(cfg Config) error {
	limits := openaiapi.Limits{
		Timeout:           DefaultTimeout,
		MaxResponseBytes:  DefaultMaxResponseBytes,
		StreamIdleTimeout: cfg.StreamIdleTimeout.Or(DefaultStreamIdleTimeout),
	}
	service, err := cfg.Open(Name, limits, m.logger)
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	m.state.Store(&state{cfg: cfg, service: service})
	return nil
}

// DataUse returns the declaration for the configured endpoint: egress to
// its host unless it is loopback, with the region, BAA and retention from
// the data_use settings.
func (m *Model) DataUse() sdk.DataUse {
	s := m.state.Load()
	if s == nil {
		return Info().DataUse
	}
	return s.service.DataUse
}

// CheckHealth fetches the server's model list and checks that the
// configured model is on it.
func (m *Model) CheckHealth(ctx context.Context) error {
	s, err := m.current()
	if err != nil {
		return err
	}
	return s.service.CheckModel(ctx, "check health", s.cfg.Model)
}

func (m *Model) current() (*state, error) {
	s := m.state.Load()
	if s == nil {
		return nil, sdk.Invalidf("", "%s is not configured; the hub must call Configure with an endpoint and a model first", Name)
	}
	return s, nil
}
