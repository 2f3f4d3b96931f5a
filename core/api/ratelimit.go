package api

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter keeps one token bucket per subject.
type rateLimiter struct {
	limit       rate.Limit
	burst       int
	maxSubjects int
	mu          sync.Mutex
	buckets     map[string]*rate.Limiter
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	if cfg.Disabled {
		return nil
	}
	perSecond := cfg.RequestsPerSecond
	if perSecond == 0 {
		perSecond = DefaultRateLimit
	}
	burst := cfg.Burst
	if burst == 0 {
		burst = DefaultRateBurst
	}
	maxSubjects := cfg.MaxSubjects
	if maxSubjects == 0 {
		maxSubjects = DefaultRateLimitSubjects
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, maxSubjects: maxSubjects, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token from key's bucket. When the bucket is empty it
// returns false and how long until a token is available.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	bucket := l.bucket(key, now)
	reservation := bucket.ReserveN(now, 1)
	delay := reservation.DelayFrom(now)
	if delay == 0 {
		return true, 0
	}
	reservation.CancelAt(now)
	return false, delay
}

func (l *rateLimiter) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bucket, ok := l.buckets[key]; ok {
		return bucket
	}
	if len(l.buckets) >= l.maxSubjects {
		l.evictFull(now)
	}
	bucket := rate.NewLimiter(l.limit, l.burst)
	l.buckets[key] = bucket
	return bucket
}

// evictFull drops the buckets that have refilled completely: forgetting
// them changes nothing, because a new bucket starts full. If every bucket
// is in use, the map grows past maxSubjects rather than reset a subject's
// count, which would let it exceed its rate.
func (l *rateLimiter) evictFull(now time.Time) {
	for key, bucket := range l.buckets {
		if bucket.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, key)
		}
	}
}

// retryAfterSeconds rounds a delay up to whole seconds, at least 1, for the
// Retry-After header.
func retryAfterSeconds(delay time.Duration) int {
	return max(1, int(math.Ceil(delay.Seconds())))
}
