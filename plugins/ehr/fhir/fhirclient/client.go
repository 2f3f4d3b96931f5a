package fhirclient

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Name and Version identify the provider.
const (
	Name    = "ehr-fhir"
	Version = "0.1.0"
)

// Info returns the description of the ehr-fhir provider. Its DataUse is
// the cautious declaration that applies before Configure; the configured
// Client reports the real one through DataUse.
func Info() sdk.Info {
	return sdk.Info{
		Name:            Name,
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindEHR},
		ProtocolVersion: sdk.ProtocolVersion,
		Capabilities:    []string{sdk.CapabilityTransaction},
		DataUse:         sdk.DataUse{Egress: true, RetentionDays: -1},
	}
}

// Client is a FHIR R4 REST client. It implements sdk.EHRConnector,
// sdk.TransactionRunner, sdk.Configurer, sdk.DataUseReporter and
// sdk.HealthChecker, and is safe for concurrent use. Calls before the first
// successful configuration fail with an invalid outcome.
type Client struct {
	logger *slog.Logger
	now    func() time.Time
	state  atomic.Pointer[state]
}

// state is everything a configuration produces, swapped in as a whole.
type state struct {
	cfg     Config
	base    *url.URL
	http    *httpx.Client
	dataUse sdk.DataUse
	// auth is the token source when SMART authorization is on, else nil.
	auth *smartAuth
}

var (
	_ sdk.EHRConnector      = (*Client)(nil)
	_ sdk.TransactionRunner = (*Client)(nil)
	_ sdk.Configurer        = (*Client)(nil)
	_ sdk.DataUseReporter   = (*Client)(nil)
	_ sdk.HealthChecker     = (*Client)(nil)
)

// New returns an unconfigured Client. A nil logger discards logs.
func New(logger *slog.Logger) *Client {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{logger: logger, now: time.Now}
}

// Open returns a Client configured with cfg, for Go programs that embed
// the provider in-process.
func Open(cfg Config, logger *slog.Logger) (*Client, error) {
	c := New(logger)
	if err := c.Apply(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// Configure decodes the plugin's configuration object and applies it. It
// makes no network calls; the token endpoint is discovered on first use.
func (c *Client) Configure(_ context.Context, raw json.RawMessage) error {
	var cfg Config
	if err := settings.Decode(raw, &cfg, Name); err != nil {
		return err
	}
	return c.Apply(cfg)
}

// Apply checks cfg, loads the signing key when SMART authorization is on,
// and makes cfg the Client's configuration. On error the previous
// configuration stays in force.
func (c *Client) Apply(cfg Config) error {
	s, err := c.open(cfg)
	if err != nil {
		return err
	}
	c.state.Store(s)
	return nil
}

func (c *Client) open(cfg Config) (*state, error) {
	if err := cfg.HTTP.Validate(Name); err != nil {
		return nil, err
	}
	if err := cfg.DataUse.Validate("/data_use", Name); err != nil {
		return nil, err
	}
	base, err := settings.Endpoint(cfg.BaseURL, "/base_url", cfg.AllowInsecureHTTP, Name)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}

	opts := cfg.HTTP.ClientOptions(DefaultTimeout, DefaultMaxResponseBytes)
	opts.Plugin, opts.BaseURL, opts.Logger = Name, base, c.logger
	opts.Header = http.Header{"Accept": {fhirJSON}}
	opts.ParseError = parseOperationOutcome
	auth, err := c.addAuthorization(cfg, &opts)
	if err != nil {
		return nil, err
	}

	endpoints := []*url.URL{base}
	if cfg.Auth.Type == AuthSMARTBackend && cfg.Auth.TokenURL != "" {
		if tokenURL, err := url.Parse(cfg.Auth.TokenURL); err == nil {
			endpoints = append(endpoints, tokenURL)
		}
	}
	return &state{cfg: cfg, base: base, http: httpx.New(opts), dataUse: cfg.DataUse.Declare(endpoints...), auth: auth}, nil
}

// addAuthorization sets the Authorization header or the Authorize and
// Unauthorized hooks for the configured authorization type. It returns the
// token source for SMART authorization.
func (c *Client) addAuthorization(cfg Config, opts *httpx.Options) (*smartAuth, error) {
	switch cfg.Auth.Type {
	case AuthBearer:
		token, err := settings.Secret{Value: cfg.Auth.Token, File: cfg.Auth.TokenFile, ValuePath: "/auth/token", FilePath: "/auth/token_file"}.Read(Name)
		if err != nil {
			return nil, err
		}
		opts.Header.Set("Authorization", "Bearer "+token)
	case AuthSMARTBackend:
		key, method, err := loadSigningKey(cfg.Auth)
		if err != nil {
			return nil, err
		}
		plain := *opts
		plain.Header = http.Header{"Accept": {"application/json"}}
		plain.ParseError = nil
		tokenOptions := plain
		tokenOptions.ParseError = parseTokenError
		auth := &smartAuth{
			cfg: cfg.Auth, key: key, method: method,
			discovery:     httpx.New(plain),
			tokenOptions:  tokenOptions,
			allowInsecure: cfg.AllowInsecureHTTP,
			now:           c.now,
		}
		opts.Authorize = auth.authorization
		opts.Unauthorized = auth.invalidate
		return auth, nil
	}
	return nil, nil
}

// DataUse returns the declaration for the configured server: egress to its
// host, and to a configured token endpoint's host, unless they are
// loopback, with the region, BAA and retention from the data_use settings.
// A discovered token endpoint receives only the client assertion, no
// patient data, and is not listed.
func (c *Client) DataUse() sdk.DataUse {
	s := c.state.Load()
	if s == nil {
		return Info().DataUse
	}
	return s.dataUse
}

// CheckHealth reads the server's CapabilityStatement (GET [base]/metadata)
// with the configured authorization, so a token endpoint that rejects the
// client shows up here too.
func (c *Client) CheckHealth(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	resp, err := s.http.Do(ctx, httpx.Request{Op: "check health", Method: http.MethodGet, Path: "metadata"})
	if err != nil {
		return err
	}
	if _, err := decodeResource(resp.Body, "CapabilityStatement", "check health", s.http.Host()); err != nil {
		return err
	}
	return nil
}

func (c *Client) current() (*state, error) {
	s := c.state.Load()
	if s == nil {
		return nil, sdk.Invalidf("", "%s is not configured; the hub must call Configure with a base_url first", Name)
	}
	return s, nil
}
