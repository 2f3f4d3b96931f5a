package sdktest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	randv2 "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// CancelWait is how long a provider may take to return after its context
// is cancelled before a suite reports that it ignored the cancellation.
const CancelWait = 10 * time.Second

// Loopback serves p over the plugin wire protocol inside the test process
// (see sdk.ServeLoopback) and returns the Provider that reaches it through
// gRPC. The server stops when the test ends.
func Loopback(t testing.TB, p sdk.Provider) sdk.Provider {
	t.Helper()
	remote, stop, err := sdk.ServeLoopback(context.Background(), p)
	require.NoError(t, err, "serve provider %q over loopback", p.Info.Name)
	t.Cleanup(stop)
	return remote
}

// uniquePrefix returns a key prefix no other subtest uses, so that suites
// can share one backend.
func uniquePrefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "sdktest-" + hex.EncodeToString(b[:]) + "/"
}

// payload is a deterministic pseudo-random byte stream of a given size,
// generated on the fly so that large payloads need no memory.
type payload struct {
	rng       *randv2.ChaCha8
	remaining int64
}

func newPayload(seed byte, size int64) *payload {
	var s [32]byte
	s[0] = seed
	return &payload{rng: randv2.NewChaCha8(s), remaining: size}
}

func (p *payload) Read(b []byte) (int, error) {
	if p.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.remaining {
		b = b[:p.remaining]
	}
	n, _ := p.rng.Read(b)
	p.remaining -= int64(n)
	return n, nil
}

// payloadSHA256 returns the hex SHA-256 of newPayload(seed, size).
func payloadSHA256(t testing.TB, seed byte, size int64) string {
	t.Helper()
	h := sha256.New()
	_, err := io.Copy(h, newPayload(seed, size))
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// slowReader returns small pieces with a pause between them, up to limit
// bytes, so that a call reading it is still running when the test cancels
// its context. A provider that ignores the cancellation reads to the end
// and succeeds, which the suites report.
type slowReader struct {
	pause     time.Duration
	remaining int64
}

func newSlowReader() *slowReader {
	return &slowReader{pause: 5 * time.Millisecond, remaining: 64 << 20}
}

func (r *slowReader) Read(b []byte) (int, error) {
	if r.remaining <= 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := min(len(b), 4096, int(r.remaining))
	clear(b[:n])
	r.remaining -= int64(n)
	return n, nil
}

// returnsWithin runs call and fails the test when it has not returned
// CancelWait after cancel was called. It returns call's error.
func returnsWithin(t *testing.T, cancel context.CancelFunc, after time.Duration, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	time.Sleep(after)
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(CancelWait):
		t.Fatalf("the call did not return within %s after its context was cancelled", CancelWait)
		return nil
	}
}

// isCancellation reports whether err reports a call stopped because its
// context ended.
func isCancellation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sdk.ErrTimeout) {
		return true
	}
	for _, issue := range sdk.AsOutcome(err).Issues {
		if issue.Code == sdk.CodeIncomplete {
			return true
		}
	}
	return false
}
