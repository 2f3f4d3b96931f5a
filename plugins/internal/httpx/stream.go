package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// watchdog cancels a streamed call when a time limit passes: first the call
// timeout until the headers arrive, then the idle timeout between reads.
type watchdog struct {
	mu      sync.Mutex
	timer   *time.Timer
	cause   error
	limit   time.Duration
	stopped bool
}

func newWatchdog(timeout time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{cause: errCallTimeout, limit: timeout}
	w.timer = time.AfterFunc(timeout, func() {
		w.mu.Lock()
		cause := fmt.Errorf("%w after %s", w.cause, w.limit)
		w.mu.Unlock()
		cancel(cause)
	})
	return w
}

// idle switches the watchdog to the idle limit and re-arms it.
func (w *watchdog) idle(limit time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.cause, w.limit = errIdleTimeout, limit
	w.timer.Reset(limit)
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}

// streamBody re-arms the watchdog on every read that returns data, turns
// read errors into outcomes, and releases the call when closed.
type streamBody struct {
	client *Client
	ctx    context.Context
	op     string
	body   io.ReadCloser
	guard  *watchdog
	cancel context.CancelCauseFunc
}

func (s *streamBody) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.guard.idle(s.client.opts.StreamIdleTimeout)
	}
	if err != nil && err != io.EOF {
		err = s.client.readError(s.ctx, s.op, err)
	}
	return n, err
}

func (s *streamBody) Close() error {
	s.guard.stop()
	err := s.body.Close()
	s.cancel(nil)
	return err
}

// readError converts an error from reading a streamed body: a timeout when
// the watchdog fired, the caller's context error when the caller cancelled,
// and a transient upstream error when the connection broke.
func (c *Client) readError(ctx context.Context, op string, err error) error {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errIdleTimeout):
		return sdk.Upstreamf(sdk.CodeTimeout, "%s: %s sent no data for %s; raise stream_idle_timeout if the model is slow", op, c.host, c.opts.StreamIdleTimeout)
	case errors.Is(cause, errCallTimeout):
		return c.timeoutOutcome(op)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	return sdk.Upstreamf(sdk.CodeTransient, "%s: stream from %s broke off: %v", op, c.host, transportCause(err))
}
