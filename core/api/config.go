package api

import (
	"time"

	"github.com/healthhub/healthhub/core/units"
)

// Defaults of ServerConfig, LimitsConfig and MetricsConfig.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultRequestTimeout    = 30 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultMaxBodySize       = 8 << 20
	DefaultMaxBlobSize       = 1 << 30
	DefaultRateLimit         = 50.0
	DefaultRateBurst         = 100
	DefaultRateLimitSubjects = 100_000
)

// ServerConfig is the server section of the hub configuration: where the
// hub listens and how long each stage of a request may take.
type ServerConfig struct {
	// Listen is the TCP address to listen on. Default "127.0.0.1:8080".
	Listen string `json:"listen,omitempty"`
	// BaseURL is the hub's external URL, such as
	// "https://hub.example.org", used in paging links and Bundle fullUrl
	// values. Default: the scheme and Host header of each request.
	BaseURL string `json:"base_url,omitempty"`
	// TLSCertFile and TLSKeyFile are PEM files that turn on HTTPS. Both or
	// neither. Default: plain HTTP, for a hub behind a TLS-terminating proxy
	// or on loopback.
	TLSCertFile string `json:"tls_cert_file,omitempty"`
	TLSKeyFile  string `json:"tls_key_file,omitempty"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 5s.
	ReadHeaderTimeout units.Duration `json:"read_header_timeout,omitempty"`
	// ReadTimeout bounds reading a whole request, body included. Routes
	// that stream large bodies extend it. Default 1m.
	ReadTimeout units.Duration `json:"read_timeout,omitempty"`
	// WriteTimeout bounds writing a response. Routes that stream large
	// bodies extend it. Default 1m.
	WriteTimeout units.Duration `json:"write_timeout,omitempty"`
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request. Default 2m.
	IdleTimeout units.Duration `json:"idle_timeout,omitempty"`
	// RequestTimeout is the deadline of a request's handler, which bounds
	// every stage after reading the headers: authentication, validation,
	// policy, store, provider and audit. Default 30s.
	RequestTimeout units.Duration `json:"request_timeout,omitempty"`
	// ShutdownTimeout bounds the drain of requests in flight at shutdown,
	// after which remaining connections are closed. Default 30s.
	ShutdownTimeout units.Duration `json:"shutdown_timeout,omitempty"`
	// PprofListen is a TCP address, such as "127.0.0.1:6060", on which the
	// Go profiler (net/http/pprof) is served without authentication, for
	// profiling a running hub. Keep it on loopback. Default: off.
	PprofListen string `json:"pprof_listen,omitempty"`
}

// LimitsConfig is the limits section of the hub configuration.
type LimitsConfig struct {
	// MaxBodySize is the largest request body accepted on /fhir and /v1
	// routes other than blob uploads; larger bodies get 413. Default 8MiB.
	MaxBodySize units.ByteSize `json:"max_body_size,omitempty"`
	// MaxBlobSize is the largest attachment accepted by /v1/blobs.
	// Default 1GiB.
	MaxBlobSize units.ByteSize `json:"max_blob_size,omitempty"`
	// RateLimit limits each subject's request rate.
	RateLimit RateLimitConfig `json:"rate_limit"`
}

// RateLimitConfig sets the token bucket every authenticated subject gets,
// keyed by tenant and subject id.
type RateLimitConfig struct {
	// Disabled turns rate limiting off. Default false.
	Disabled bool `json:"disabled,omitempty"`
	// RequestsPerSecond is the bucket's refill rate, in requests per
	// second. Default 50.
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	// Burst is the bucket's size: how many requests a subject may make at
	// once after a quiet period. Default 100.
	Burst int `json:"burst,omitempty"`
	// MaxSubjects caps the number of buckets kept in memory. When it is
	// reached, buckets of subjects idle long enough to be full again are
	// dropped. Default 100000.
	MaxSubjects int `json:"max_subjects,omitempty"`
}

// MetricsConfig is the metrics section of the hub configuration.
type MetricsConfig struct {
	// Enabled serves /metrics in the Prometheus text format. Default true.
	Enabled *bool `json:"enabled,omitempty"`
	// RequireAuth makes /metrics require a credential like the /v1 routes.
	// Default false, so that a scraper on the hub's network needs no
	// token. The metrics carry route patterns and counts, never resource
	// ids or query strings.
	RequireAuth bool `json:"require_auth,omitempty"`
}

func (c MetricsConfig) enabled() bool { return c.Enabled == nil || *c.Enabled }
