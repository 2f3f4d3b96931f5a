package openaistt

import (
	"time"

	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/sdk"
)

// Defaults of the settings in Config.
const (
	DefaultTimeout          = 300 * time.Second
	DefaultMaxResponseBytes = 8 << 20
	// DefaultMaxAudioBytes is 25 MiB, the upload limit the hosted OpenAI
	// API documents for this endpoint.
	DefaultMaxAudioBytes = 25 << 20
)

// Config configures a Transcriber. The JSON form is the plugin's
// configuration object in the hub configuration. Its embedded Connection
// adds endpoint, api_key, api_key_file, timeout (default "300s" here),
// connect_timeout, max_retries, max_retry_wait, max_response_bytes
// (default 8 MiB here), allow_insecure_http and data_use.
type Config struct {
	openaiapi.Connection

	// Model is the model used when a request names none, such as
	// "whisper-1". Required.
	Model string `json:"model"`
	// Language is the BCP 47 tag used when a request gives none, such as
	// "en-US". Default: empty, so the server detects the language.
	Language string `json:"language,omitempty"`
	// MaxAudioBytes is the largest recording the plugin uploads, in bytes.
	// Larger recordings are rejected before anything is sent. Default 25
	// MiB.
	MaxAudioBytes int64 `json:"max_audio_bytes,omitempty"`
}

func (c Config) validate() error {
	if c.Model == "" {
		return sdk.NewOutcome(sdk.Issue{
			Severity: sdk.SeverityError, Code: sdk.CodeRequired, Path: "/model",
			Diagnostics: "configure " + Name + ": model is missing; set it to the model id the server serves, such as \"whisper-1\"",
		})
	}
	if c.Language != "" {
		if _, err := isoLanguage(c.Language); err != nil {
			return sdk.Invalidf("/language", "configure %s: %v", Name, err)
		}
	}
	if c.MaxAudioBytes < 0 {
		return sdk.Invalidf("/max_audio_bytes", "configure %s: max_audio_bytes is %d; use a positive byte count, or leave it out for 25 MiB", Name, c.MaxAudioBytes)
	}
	return nil
}

func (c Config) maxAudioBytes() int64 {
	if c.MaxAudioBytes == 0 {
		return DefaultMaxAudioBytes
	}
	return c.MaxAudioBytes
}
