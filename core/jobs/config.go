package jobs

import (
	"time"

	"github.com/healthhub/healthhub/core/units"
)

// Defaults of Config.
const (
	DefaultMaxAttempts         = 5
	DefaultWorkers             = 4
	DefaultRetryBackoff        = 10 * time.Second
	DefaultMaxRetryBackoff     = 10 * time.Minute
	DefaultJobTimeout          = 30 * time.Minute
	DefaultPollInterval        = time.Second
	DefaultCompletedRetention  = 7 * 24 * time.Hour
	DefaultDiscardedRetention  = 30 * 24 * time.Hour
	defaultRescueMargin        = 5 * time.Minute
	defaultSQLiteBusyTimeoutMS = 10000
	// minPollInterval is river's fetch cooldown, which a poll interval
	// may not undercut.
	minPollInterval = 100 * time.Millisecond
)

// Config is the jobs section of the hub configuration. The queue uses the
// store's database; only the behaviour of the queue is set here.
type Config struct {
	// MaxAttempts is how many times a job runs before it is discarded.
	// Default 5.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Workers is how many jobs one hub runs at once. Default 4.
	Workers int `json:"workers,omitempty"`
	// RetryBackoff is the wait before the first retry of a failed job; it
	// doubles with each further attempt, with 10% jitter. Default 10s.
	RetryBackoff units.Duration `json:"retry_backoff,omitempty"`
	// MaxRetryBackoff caps the wait between two attempts. Default 10m.
	MaxRetryBackoff units.Duration `json:"max_retry_backoff,omitempty"`
	// JobTimeout bounds one attempt of a job. Default 30m.
	JobTimeout units.Duration `json:"job_timeout,omitempty"`
	// RescueAfter is how long a job may stay running before another hub
	// takes it for a hub that died while running it. It must exceed
	// JobTimeout. Default JobTimeout plus 5m.
	RescueAfter units.Duration `json:"rescue_after,omitempty"`
	// PollInterval is how often a hub looks for jobs that another process
	// queued. Jobs queued by the hub itself start at once. At least 100ms.
	// Default 1s.
	PollInterval units.Duration `json:"poll_interval,omitempty"`
	// CompletedRetention is how long a completed job is kept for clients
	// to fetch its result. Default 168h (7 days).
	CompletedRetention units.Duration `json:"completed_retention,omitempty"`
	// DiscardedRetention is how long a discarded or cancelled job is kept,
	// with its errors, for an operator to retry it. Default 720h (30
	// days).
	DiscardedRetention units.Duration `json:"discarded_retention,omitempty"`
}

// settings is Config with the defaults applied.
type settings struct {
	maxAttempts        int
	workers            int
	retryBackoff       time.Duration
	maxRetryBackoff    time.Duration
	jobTimeout         time.Duration
	rescueAfter        time.Duration
	pollInterval       time.Duration
	completedRetention time.Duration
	discardedRetention time.Duration
}

func (c Config) settings() settings {
	s := settings{
		maxAttempts:        c.MaxAttempts,
		workers:            c.Workers,
		retryBackoff:       c.RetryBackoff.Or(DefaultRetryBackoff),
		maxRetryBackoff:    c.MaxRetryBackoff.Or(DefaultMaxRetryBackoff),
		jobTimeout:         c.JobTimeout.Or(DefaultJobTimeout),
		pollInterval:       c.PollInterval.Or(DefaultPollInterval),
		completedRetention: c.CompletedRetention.Or(DefaultCompletedRetention),
		discardedRetention: c.DiscardedRetention.Or(DefaultDiscardedRetention),
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = DefaultMaxAttempts
	}
	if s.workers <= 0 {
		s.workers = DefaultWorkers
	}
	s.rescueAfter = c.RescueAfter.Or(s.jobTimeout + defaultRescueMargin)
	return s
}
