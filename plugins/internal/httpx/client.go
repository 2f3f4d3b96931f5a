package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/healthhub/healthhub/sdk"
)

// Defaults used when the matching Options field is zero.
const (
	DefaultTimeout           = 60 * time.Second
	DefaultStreamIdleTimeout = 60 * time.Second
	DefaultConnectTimeout    = 10 * time.Second
	DefaultRetryWaitMin      = 250 * time.Millisecond
	DefaultRetryWaitMax      = 30 * time.Second
	DefaultMaxResponseBytes  = 32 << 20
)

// Options configure a Client. Zero values select the documented defaults.
type Options struct {
	// Plugin names the provider in errors and logs, such as "llm-openai".
	Plugin string
	// BaseURL is the service's base URL; request paths resolve against it.
	// Its path must end with a slash.
	BaseURL *url.URL
	// Timeout bounds a whole call, retries and waits included. Default 60s.
	Timeout time.Duration
	// StreamIdleTimeout bounds the wait for more data on a streamed
	// response. Default 60s.
	StreamIdleTimeout time.Duration
	// ConnectTimeout bounds TCP connection set-up and the TLS handshake.
	// Default 10s.
	ConnectTimeout time.Duration
	// MaxRetries is the number of retries after the first attempt of an
	// idempotent request. 0 disables retries; negative values count as 0.
	MaxRetries int
	// RetryWaitMin is the first backoff wait. Default 250ms.
	RetryWaitMin time.Duration
	// RetryWaitMax caps every backoff wait and the Retry-After delay the
	// client honours. Default 30s.
	RetryWaitMax time.Duration
	// MaxResponseBytes caps a buffered response body. Default 32 MiB.
	MaxResponseBytes int
	// Authorize returns the Authorization header value for a request, or
	// "" for none. It runs before every attempt, so it can refresh a
	// token between retries. Errors stop the call without a retry.
	Authorize func(ctx context.Context) (string, error)
	// Unauthorized is called when the service answers 401, so a token
	// cache can drop a token the service no longer accepts.
	Unauthorized func()
	// ParseError extracts the vendor's error message and issues from a
	// non-2xx response body. Nil uses the body's first line as the message.
	ParseError func(status int, body []byte) (message string, issues []sdk.Issue)
	// Header is sent with every request.
	Header http.Header
	// Transport replaces the HTTP transport. Nil builds one from
	// ConnectTimeout.
	Transport http.RoundTripper
	// Logger receives retry logs. Nil discards them.
	Logger *slog.Logger
}

// Client sends requests to one vendor service. It is safe for concurrent
// use.
type Client struct {
	opts  Options
	host  string
	resty *resty.Client
}

// New builds a Client. It makes no network calls.
func New(opts Options) *Client {
	opts = withDefaults(opts)
	c := &Client{opts: opts, host: opts.BaseURL.Host}

	transport := opts.Transport
	if transport == nil {
		transport = newTransport(opts.ConnectTimeout)
	}
	r := resty.New().
		SetTransport(transport).
		SetLogger(discardLogger{}).
		SetRetryCount(opts.MaxRetries).
		SetRetryWaitTime(opts.RetryWaitMin).
		SetRetryMaxWaitTime(opts.RetryWaitMax).
		SetRetryAfter(c.retryAfter).
		AddRetryCondition(retryCondition).
		SetResponseBodyLimit(opts.MaxResponseBytes).
		SetRedirectPolicy(resty.FlexibleRedirectPolicy(5), resty.DomainCheckRedirectPolicy(opts.BaseURL.Hostname()))
	for name, values := range opts.Header {
		for _, value := range values {
			r.Header.Add(name, value)
		}
	}
	if opts.Authorize != nil {
		r.OnBeforeRequest(c.authorize)
	}
	c.resty = r
	return c
}

func withDefaults(opts Options) Options {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.StreamIdleTimeout <= 0 {
		opts.StreamIdleTimeout = DefaultStreamIdleTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = DefaultRetryWaitMax
	}
	if opts.RetryWaitMax < opts.RetryWaitMin {
		opts.RetryWaitMax = opts.RetryWaitMin
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return opts
}

func newTransport(connectTimeout time.Duration) *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = connectTimeout
	transport.MaxIdleConnsPerHost = 16
	return transport
}

// Host returns the host, with port when one is set, that the client sends
// requests to.
func (c *Client) Host() string {
	return c.host
}

// Resolve returns the absolute URL of a path relative to the base URL.
func (c *Client) Resolve(path string) *url.URL {
	return c.opts.BaseURL.ResolveReference(&url.URL{Path: path})
}

func (c *Client) authorize(_ *resty.Client, r *resty.Request) error {
	value, err := c.opts.Authorize(r.Context())
	if err != nil {
		return err
	}
	if value != "" {
		r.Header.Set("Authorization", value)
	}
	return nil
}

// discardLogger silences resty's logger, whose messages include full URLs
// with query strings that may carry patient identifiers.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// errorSnippet returns at most the first 300 bytes of an error body's first
// line, for messages when the vendor's format is unknown.
func errorSnippet(body []byte) string {
	text := strings.TrimSpace(string(body))
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	return truncate(text, 300)
}

func truncate(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !isRuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

func isRuneStart(b byte) bool {
	return b&0xC0 != 0x80
}

// drain reads and closes a body so the connection can be reused, reading
// at most 64 KiB.
func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

var errNotConfigured = errors.New("base URL is not set")

func (c *Client) check() error {
	if c == nil || c.opts.BaseURL == nil {
		return fmt.Errorf("httpx: %w", errNotConfigured)
	}
	return nil
}
