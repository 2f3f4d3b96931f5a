package settings

import (
	"time"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/sdk"
)

// HTTP holds the connection settings every HTTP provider plugin shares. The
// plugins embed it in their Config, so its keys sit at the top level of the
// configuration object.
type HTTP struct {
	// Timeout bounds one call to the service, retries and waits included.
	// Default: the plugin's own, given in its Config documentation.
	Timeout Duration `json:"timeout,omitempty"`
	// ConnectTimeout bounds connection set-up and the TLS handshake.
	// Default "10s".
	ConnectTimeout Duration `json:"connect_timeout,omitempty"`
	// MaxRetries is how many times an idempotent request (GET, HEAD, or a
	// PUT with If-Match) is sent again after a transport error or a 408,
	// 429, 502, 503 or 504. POST requests are never retried. Default 2; 0
	// disables retries.
	MaxRetries *int `json:"max_retries,omitempty"`
	// MaxRetryWait caps the wait before a retry, and the Retry-After delay
	// the plugin honours. A server that requests a longer wait gets no
	// retry. Default "30s".
	MaxRetryWait Duration `json:"max_retry_wait,omitempty"`
	// MaxResponseBytes caps the size of a response body, in bytes.
	// Default: the plugin's own.
	MaxResponseBytes int `json:"max_response_bytes,omitempty"`
	// AllowInsecureHTTP permits plain http:// endpoints on hosts other
	// than loopback. Default false.
	AllowInsecureHTTP bool `json:"allow_insecure_http,omitempty"`
}

// DefaultMaxRetries is the retry count used when MaxRetries is not set.
const DefaultMaxRetries = 2

// Validate checks the settings, returning an outcome with the path of a bad
// one.
func (h HTTP) Validate(plugin string) error {
	negative := []struct {
		path  string
		value time.Duration
	}{
		{"/timeout", time.Duration(h.Timeout)},
		{"/connect_timeout", time.Duration(h.ConnectTimeout)},
		{"/max_retry_wait", time.Duration(h.MaxRetryWait)},
	}
	for _, setting := range negative {
		if setting.value < 0 {
			return sdk.Invalidf(setting.path, "configure %s: %s is %s; use a positive duration such as \"30s\"", plugin, setting.path, setting.value)
		}
	}
	if h.MaxRetries != nil && (*h.MaxRetries < 0 || *h.MaxRetries > 10) {
		return sdk.Invalidf("/max_retries", "configure %s: max_retries is %d; use a number from 0 to 10", plugin, *h.MaxRetries)
	}
	if h.MaxResponseBytes < 0 {
		return sdk.Invalidf("/max_response_bytes", "configure %s: max_response_bytes is %d; use a positive byte count, or leave it out for the default", plugin, h.MaxResponseBytes)
	}
	return nil
}

// ClientOptions returns the httpx options these settings select, with the
// plugin's own defaults for Timeout and MaxResponseBytes. The caller sets
// BaseURL and the other fields.
func (h HTTP) ClientOptions(defaultTimeout time.Duration, defaultMaxResponseBytes int) httpx.Options {
	retries := DefaultMaxRetries
	if h.MaxRetries != nil {
		retries = *h.MaxRetries
	}
	maxResponse := h.MaxResponseBytes
	if maxResponse == 0 {
		maxResponse = defaultMaxResponseBytes
	}
	return httpx.Options{
		Timeout:          h.Timeout.Or(defaultTimeout),
		ConnectTimeout:   h.ConnectTimeout.Or(httpx.DefaultConnectTimeout),
		MaxRetries:       retries,
		RetryWaitMax:     h.MaxRetryWait.Or(httpx.DefaultRetryWaitMax),
		MaxResponseBytes: maxResponse,
	}
}
