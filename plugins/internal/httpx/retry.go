package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Idempotent reports whether a request may be sent again after a failure
// without risk of applying it twice. GET, HEAD and OPTIONS are; PUT and
// DELETE are only with an If-Match version check, because the server then
// rejects a second application with 412. POST never is.
func Idempotent(method string, header http.Header) bool {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodPut, http.MethodDelete:
		return header.Get("If-Match") != ""
	}
	return false
}

// retryCondition decides whether resty sends a request again. It is the
// client's only condition, so it replaces resty's default of retrying every
// transport error, POST included.
func retryCondition(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil {
		return false
	}
	if !Idempotent(resp.Request.Method, resp.Request.Header) {
		return false
	}
	if resp.Request.Context().Err() != nil {
		return false
	}
	if err != nil {
		return retryableTransportError(err)
	}
	switch resp.StatusCode() {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func retryableTransportError(err error) bool {
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, resty.ErrResponseBodyTooLarge):
		return false
	case errors.As(err, &certErr):
		return false
	}
	return true
}

// retryStopError ends the retries of a throttled call whose Retry-After is
// longer than the client may wait.
type retryStopError struct {
	wait   time.Duration
	reason string
}

func (e *retryStopError) Error() string {
	return fmt.Sprintf("server asked to retry after %s, %s", e.wait, e.reason)
}

// retryAfter runs before each retry wait. It returns the delay a 429 or 503
// asked for in Retry-After, or 0 to let resty back off with jitter, and it
// logs the retry.
func (c *Client) retryAfter(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	wait, ok := time.Duration(0), false
	status := 0
	if resp.RawResponse != nil {
		status = resp.StatusCode()
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			wait, ok = ParseRetryAfter(resp.Header().Get("Retry-After"), time.Now())
		}
	}

	if ok {
		if wait > c.opts.RetryWaitMax {
			return 0, &retryStopError{wait: wait, reason: fmt.Sprintf("longer than the maximum retry wait of %s", c.opts.RetryWaitMax)}
		}
		if deadline, has := resp.Request.Context().Deadline(); has && time.Until(deadline) < wait {
			return 0, &retryStopError{wait: wait, reason: "past the call's deadline"}
		}
	}

	c.opts.Logger.LogAttrs(resp.Request.Context(), slog.LevelWarn, "retrying upstream call",
		slog.String("plugin", c.opts.Plugin),
		slog.String("op", opFrom(resp.Request.Context())),
		slog.String("host", c.host),
		slog.Int("attempt", resp.Request.Attempt),
		slog.Int("status", status),
		slog.Duration("retry_after", wait),
	)
	return wait, nil
}

// ParseRetryAfter reads a Retry-After header value: a number of seconds or
// an HTTP-date (RFC 9110, section 10.2.3). A date in the past yields 0. It
// returns false when the value is empty or malformed.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 {
			return 0, false
		}
		// Cap before converting so a huge value cannot overflow.
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(seconds, maxSeconds)) * time.Second, true
	}
	date, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(date.Sub(now), 0), true
}
