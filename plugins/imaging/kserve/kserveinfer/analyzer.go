package kserveinfer

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Name and Version identify the provider.
const (
	Name    = "imaging-kserve"
	Version = "0.1.0"
)

// Info returns the description of the imaging-kserve provider. Its DataUse
// is the cautious declaration that applies before Configure; the
// configured Analyzer reports the real one through DataUse.
func Info() sdk.Info {
	return sdk.Info{
		Name:            Name,
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindImaging},
		ProtocolVersion: sdk.ProtocolVersion,
		DataUse:         sdk.DataUse{Egress: true, RetentionDays: -1},
	}
}

// Analyzer sends images to a KServe v2 model server. It implements
// sdk.ImageAnalyzer, sdk.Configurer, sdk.DataUseReporter and
// sdk.HealthChecker, and is safe for concurrent use. Calls before the first
// successful configuration fail with an invalid outcome.
type Analyzer struct {
	logger *slog.Logger
	state  atomic.Pointer[state]
}

// state is everything a configuration produces, swapped in as a whole.
type state struct {
	cfg     Config
	client  *httpx.Client
	dataUse sdk.DataUse
	// modelPath is the model's route below /v2, such as
	// "v2/models/chest/versions/3".
	modelPath string
}

var (
	_ sdk.ImageAnalyzer   = (*Analyzer)(nil)
	_ sdk.Configurer      = (*Analyzer)(nil)
	_ sdk.DataUseReporter = (*Analyzer)(nil)
	_ sdk.HealthChecker   = (*Analyzer)(nil)
)

// New returns an unconfigured Analyzer. A nil logger discards logs.
func New(logger *slog.Logger) *Analyzer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Analyzer{logger: logger}
}

// Open returns an Analyzer configured with cfg, for Go programs that embed
// the provider in-process.
func Open(cfg Config, logger *slog.Logger) (*Analyzer, error) {
	a := New(logger)
	if err := a.Apply(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Configure decodes the plugin's configuration object and applies it. It
// makes no network calls.
func (a *Analyzer) Configure(_ context.Context, raw json.RawMessage) error {
	var cfg Config
	if err := settings.Decode(raw, &cfg, Name); err != nil {
		return err
	}
	return a.Apply(cfg)
}

// Apply checks cfg and makes it the Analyzer's configuration. On error the
// previous configuration stays in force.
func (a *Analyzer) Apply(cfg Config) error {
	s, err := a.open(cfg)
	if err != nil {
		return err
	}
	a.state.Store(s)
	return nil
}

func (a *Analyzer) open(cfg Config) (*state, error) {
	if err := cfg.HTTP.Validate(Name); err != nil {
		return nil, err
	}
	if err := cfg.DataUse.Validate("/data_use", Name); err != nil {
		return nil, err
	}
	endpoint, err := settings.Endpoint(cfg.Endpoint, "/endpoint", cfg.AllowInsecureHTTP, Name)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key, err := settings.Secret{Value: cfg.APIKey, File: cfg.APIKeyFile, ValuePath: "/api_key", FilePath: "/api_key_file"}.Read(Name)
	if err != nil {
		return nil, err
	}

	opts := cfg.HTTP.ClientOptions(DefaultTimeout, DefaultMaxResponseBytes)
	opts.Plugin, opts.BaseURL, opts.Logger = Name, endpoint, a.logger
	opts.ParseError = parseError
	opts.Header = http.Header{"Accept": {"application/json"}}
	if key != "" {
		opts.Header.Set("Authorization", "Bearer "+key)
	}

	modelPath := "v2/models/" + url.PathEscape(cfg.Model)
	if cfg.ModelVersion != "" {
		modelPath += "/versions/" + url.PathEscape(cfg.ModelVersion)
	}
	return &state{cfg: cfg, client: httpx.New(opts), dataUse: cfg.DataUse.Declare(endpoint), modelPath: modelPath}, nil
}

// DataUse returns the declaration for the configured endpoint: egress to
// its host unless it is loopback, with the region, BAA and retention from
// the data_use settings.
func (a *Analyzer) DataUse() sdk.DataUse {
	s := a.state.Load()
	if s == nil {
		return Info().DataUse
	}
	return s.dataUse
}

func (a *Analyzer) current() (*state, error) {
	s := a.state.Load()
	if s == nil {
		return nil, sdk.Invalidf("", "%s is not configured; the hub must call Configure with an endpoint, a model and its tensors first", Name)
	}
	return s, nil
}

// parseError reads the error body of the Open Inference Protocol,
// {"error": "message"}.
func parseError(_ int, body []byte) (string, []sdk.Issue) {
	var parsed struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &parsed) == nil && parsed.Error != "" {
		return parsed.Error, nil
	}
	return string(body), nil
}
