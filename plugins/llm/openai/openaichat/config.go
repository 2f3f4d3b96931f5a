package openaichat

import (
	"time"

	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Defaults of the settings in Config.
const (
	DefaultTimeout           = 120 * time.Second
	DefaultStreamIdleTimeout = 60 * time.Second
	DefaultMaxResponseBytes  = 8 << 20
	// DefaultMaxRequestBytes is far above the largest context windows in
	// service (about one million tokens, some 4 MB of text), so it only
	// stops runaway requests.
	DefaultMaxRequestBytes = 8 << 20
)

// Config configures a Model. The JSON form is the plugin's configuration
// object in the hub configuration. Its embedded Connection adds endpoint,
// api_key, api_key_file, timeout (default "120s" here), connect_timeout,
// max_retries, max_retry_wait, max_response_bytes (default 8 MiB here),
// allow_insecure_http and data_use.
type Config struct {
	openaiapi.Connection

	// Model is the model used when a request names none, such as
	// "gpt-4o-mini" or "llama3.2". Required.
	Model string `json:"model"`
	// StreamIdleTimeout bounds the wait between two events of a streamed
	// reply; timeout bounds the wait for the stream to start. Default
	// "60s".
	StreamIdleTimeout settings.Duration `json:"stream_idle_timeout,omitempty"`
	// StreamUsage requests that the server end a stream with a token usage chunk
	// ("stream_options": {"include_usage": true}). Set it to false for
	// servers that reject stream_options. Default true.
	StreamUsage *bool `json:"stream_usage,omitempty"`
	// MaxRequestBytes caps the encoded request, in bytes. Larger
	// conversations are rejected before anything is sent. Default 8 MiB.
	MaxRequestBytes int `json:"max_request_bytes,omitempty"`
}

func (c Config) validate() error {
	if c.Model == "" {
		return sdk.NewOutcome(sdk.Issue{
			Severity: sdk.SeverityError, Code: sdk.CodeRequired, Path: "/model",
			Diagnostics: "configure " + Name + ": model is missing; set it to the model id the server serves, such as \"gpt-4o-mini\" or \"llama3.2\"",
		})
	}
	if c.MaxRequestBytes < 0 {
		return sdk.Invalidf("/max_request_bytes", "configure %s: max_request_bytes is negative; use a byte count, or leave it out for 8 MiB", Name)
	}
	if c.StreamIdleTimeout < 0 {
		return sdk.Invalidf("/stream_idle_timeout", "configure %s: stream_idle_timeout is negative; use a duration such as \"60s\"", Name)
	}
	return nil
}

func (c Config) maxRequestBytes() int {
	if c.MaxRequestBytes == 0 {
		return DefaultMaxRequestBytes
	}
	return c.MaxRequestBytes
}

func (c Config) streamUsage() bool {
	return c.StreamUsage == nil || *c.StreamUsage
}
