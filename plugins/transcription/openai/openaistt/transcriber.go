package openaistt

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
	Name    = "transcription-openai"
	Version = "0.1.0"
)

// Info returns the description of the transcription-openai provider. Its
// DataUse is the cautious declaration that applies before Configure; the
// configured Transcriber reports the real one through DataUse.
func Info() sdk.Info {
	return sdk.Info{
		Name:            Name,
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindTranscription},
		ProtocolVersion: sdk.ProtocolVersion,
		DataUse:         sdk.DataUse{Egress: true, RetentionDays: -1},
	}
}

// Transcriber is an OpenAI-compatible speech-to-text client. It implements
// sdk.Transcriber, sdk.Configurer, sdk.DataUseReporter and
// sdk.HealthChecker, and is safe for concurrent use. Calls before the first
// successful configuration fail with an invalid outcome.
type Transcriber struct {
	logger *slog.Logger
	state  atomic.Pointer[state]
}

// state is everything a configuration produces, swapped in as a whole.
type state struct {
	cfg     Config
	service *openaiapi.Service
}

var (
	_ sdk.Transcriber     = (*Transcriber)(nil)
	_ sdk.Configurer      = (*Transcriber)(nil)
	_ sdk.DataUseReporter = (*Transcriber)(nil)
	_ sdk.HealthChecker   = (*Transcriber)(nil)
)

// New returns an unconfigured Transcriber. A nil logger discards logs.
func New(logger *slog.Logger) *Transcriber {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Transcriber{logger: logger}
}

// Open returns a Transcriber configured with cfg, for Go programs that
// embed the provider in-process.
func Open(cfg Config, logger *slog.Logger) (*Transcriber, error) {
	t := New(logger)
	if err := t.Apply(cfg); err != nil {
		return nil, err
	}
	return t, nil
}

// Configure decodes the plugin's configuration object and applies it. It
// makes no network calls.
func (t *Transcriber) Configure(_ context.Context, raw json.RawMessage) error {
	var cfg Config
	if err := settings.Decode(raw, &cfg, Name); err != nil {
		return err
	}
	return t.Apply(cfg)
}

// Apply checks cfg and makes it the Transcriber's configuration. On error
// the previous configuration stays in force.
func (t *Transcriber) Apply(cfg Config) error {
	limits := openaiapi.Limits{Timeout: DefaultTimeout, MaxResponseBytes: DefaultMaxResponseBytes}
	service, err := cfg.Open(Name, limits, t.logger)
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	t.state.Store(&state{cfg: cfg, service: service})
	return nil
}

// DataUse returns the declaration for the configured endpoint: egress to
// its host unless it is loopback, with the region, BAA and retention from
// the data_use settings.
func (t *Transcriber) DataUse() sdk.DataUse {
	s := t.state.Load()
	if s == nil {
		return Info().DataUse
	}
	return s.service.DataUse
}

// CheckHealth fetches the server's model list and checks that the
// configured model is on it.
func (t *Transcriber) CheckHealth(ctx context.Context) error {
	s, err := t.current()
	if err != nil {
		return err
	}
	return s.service.CheckModel(ctx, "check health", s.cfg.Model)
}

func (t *Transcriber) current() (*state, error) {
	s := t.state.Load()
	if s == nil {
		return nil, sdk.Invalidf("", "%s is not configured; the hub must call Configure with an endpoint and a model first", Name)
	}
	return s, nil
}
