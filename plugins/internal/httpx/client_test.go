package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// countingServer serves handler and counts the requests that reach it.
type countingServer struct {
	*httptest.Server
	calls atomic.Int32
}

func newCountingServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, call int32)) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := s.calls.Add(1)
		handler(w, r, call)
	}))
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, server *httptest.Server, opts Options) *Client {
	t.Helper()
	base, err := url.Parse(server.URL + "/api/")
	require.NoError(t, err)
	opts.BaseURL = base
	if opts.Plugin == "" {
		opts.Plugin = "test-plugin"
	}
	if opts.RetryWaitMin == 0 {
		opts.RetryWaitMin = time.Millisecond
	}
	return New(opts)
}

// resetConnection closes the client's connection with a TCP reset after the
// request has been read, the way a crashing proxy does.
func resetConnection(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := http.NewResponseController(w).Hijack()
	require.NoError(t, err)
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func TestRetryAfterWaitedOutForGet(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		if call == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	})
	client := newClient(t, server.Server, Options{MaxRetries: 2})

	resp, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "things/1"})
	require.NoError(t, err)
	assert.Equal(t, `{"ok":true}`, string(resp.Body))
	assert.Equal(t, int32(2), server.calls.Load())
}

func TestRetryAfterBeyondMaximumStops(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	client := newClient(t, server.Server, Options{MaxRetries: 3, RetryWaitMax: 2 * time.Second})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrUnavailable)
	assert.Contains(t, err.Error(), "retry after 2m0s")
	assert.Equal(t, int32(1), server.calls.Load())
}

func TestPostNeverReplayed(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(t *testing.T, w http.ResponseWriter)
		sentinel error
	}{
		{"503", func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, sdk.ErrUnavailable},
		{"429", func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) }, sdk.ErrUnavailable},
		{"connection reset", resetConnection, sdk.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
				io.Copy(io.Discard, r.Body)
				if call == 1 {
					tc.fail(t, w)
					return
				}
				w.WriteHeader(http.StatusCreated)
			})
			client := newClient(t, server.Server, Options{MaxRetries: 3})

			_, err := client.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "things", Body: []byte(`{}`)})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Equal(t, int32(1), server.calls.Load(), "the POST reached the server more than once")
		})
	}
}

func TestGetRetriedAfterConnectionReset(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		if call == 1 {
			resetConnection(t, w)
			return
		}
		io.WriteString(w, "second")
	})
	client := newClient(t, server.Server, Options{MaxRetries: 1})

	resp, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	require.NoError(t, err)
	assert.Equal(t, "second", string(resp.Body))
	assert.Equal(t, int32(2), server.calls.Load())
}

func TestPutRetriedOnlyWithIfMatch(t *testing.T) {
	tests := []struct {
		name      string
		ifMatch   string
		wantCalls int32
	}{
		{"with If-Match", `W/"1"`, 2},
		{"without If-Match", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
				io.Copy(io.Discard, r.Body)
				if call == 1 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			client := newClient(t, server.Server, Options{MaxRetries: 2})
			header := http.Header{}
			if tc.ifMatch != "" {
				header.Set("If-Match", tc.ifMatch)
			}

			_, err := client.Do(context.Background(), Request{Op: "update", Method: http.MethodPut, Path: "x", Header: header, Body: []byte(`{}`)})
			assert.Equal(t, tc.wantCalls, server.calls.Load())
			if tc.wantCalls == 1 {
				assert.ErrorIs(t, err, sdk.ErrUnavailable)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestStatusMapsToOutcome(t *testing.T) {
	tests := []struct {
		status   int
		code     sdk.IssueCode
		sentinel error
	}{
		{http.StatusBadRequest, sdk.CodeInvalid, sdk.ErrInvalid},
		{http.StatusUnauthorized, sdk.CodeLogin, sdk.ErrForbidden},
		{http.StatusForbidden, sdk.CodeForbidden, sdk.ErrForbidden},
		{http.StatusNotFound, sdk.CodeNotFound, sdk.ErrNotFound},
		{http.StatusGone, sdk.CodeDeleted, sdk.ErrNotFound},
		{http.StatusConflict, sdk.CodeConflict, sdk.ErrConflict},
		{http.StatusPreconditionFailed, sdk.CodeConflict, sdk.ErrConflict},
		{http.StatusRequestEntityTooLarge, sdk.CodeTooLong, sdk.ErrTooLarge},
		{http.StatusTooManyRequests, sdk.CodeThrottled, sdk.ErrUnavailable},
		{http.StatusInternalServerError, sdk.CodeException, nil},
		{http.StatusNotImplemented, sdk.CodeNotSupported, sdk.ErrNotSupported},
		{http.StatusServiceUnavailable, sdk.CodeTransient, sdk.ErrUnavailable},
		{http.StatusGatewayTimeout, sdk.CodeTimeout, sdk.ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
				w.WriteHeader(tc.status)
				io.WriteString(w, "vendor says no\nsecond line")
			})
			client := newClient(t, server.Server, Options{})

			_, err := client.Do(context.Background(), Request{Op: "read thing", Method: http.MethodGet, Path: "x"})
			var outcome *sdk.Outcome
			require.ErrorAs(t, err, &outcome)
			require.NotEmpty(t, outcome.Issues)
			assert.Equal(t, tc.code, outcome.Issues[0].Code)
			assert.Equal(t, sdk.SourceUpstream, outcome.Issues[0].Source)
			assert.Contains(t, outcome.Issues[0].Diagnostics, "read thing: ")
			assert.Contains(t, outcome.Issues[0].Diagnostics, "vendor says no")
			assert.NotContains(t, outcome.Issues[0].Diagnostics, "second line")
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
		})
	}
}

func TestParseErrorIssuesFollowStatus(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		w.WriteHeader(http.StatusUnprocessableEntity)
	})
	client := newClient(t, server.Server, Options{ParseError: func(status int, body []byte) (string, []sdk.Issue) {
		return "bad field", []sdk.Issue{{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Expression: "Patient.name", Diagnostics: "name is required"}}
	}})

	_, err := client.Do(context.Background(), Request{Op: "create", Method: http.MethodPost, Path: "x"})
	var outcome *sdk.Outcome
	require.ErrorAs(t, err, &outcome)
	require.Len(t, outcome.Issues, 2)
	assert.Contains(t, outcome.Issues[0].Diagnostics, "bad field")
	assert.Equal(t, sdk.CodeRequired, outcome.Issues[1].Code)
	assert.Equal(t, sdk.SourceUpstream, outcome.Issues[1].Source)
}

func TestTimeoutBecomesTimeoutOutcome(t *testing.T) {
	release := make(chan struct{})
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	client := newClient(t, server.Server, Options{Timeout: 50 * time.Millisecond, MaxRetries: 2})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrTimeout)
	assert.Equal(t, int32(1), server.calls.Load(), "a timed-out call must not be retried past its deadline")
}

func TestCallerCancelIsNotUpstreamFault(t *testing.T) {
	release := make(chan struct{})
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	client := newClient(t, server.Server, Options{})

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for server.calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := client.Do(ctx, Request{Op: "read", Method: http.MethodGet, Path: "x"})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestStreamIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	client := newClient(t, server.Server, Options{StreamIdleTimeout: 50 * time.Millisecond})

	resp, err := client.Do(context.Background(), Request{Op: "stream", Method: http.MethodPost, Path: "x", Stream: true})
	require.NoError(t, err)
	defer resp.Stream.Close()

	buf := make([]byte, 5)
	_, err = io.ReadFull(resp.Stream, buf)
	require.NoError(t, err)
	assert.Equal(t, "first", string(buf))

	_, err = resp.Stream.Read(buf)
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrTimeout)
	assert.Contains(t, err.Error(), "sent no data")
}

func TestStreamErrorStatusReadsBody(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "model not found")
	})
	client := newClient(t, server.Server, Options{})

	_, err := client.Do(context.Background(), Request{Op: "chat", Method: http.MethodPost, Path: "x", Stream: true})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Contains(t, err.Error(), "model not found")
}

func TestRedirectToOtherHostBlocked(t *testing.T) {
	other := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {})
	otherURL, err := url.Parse(other.URL)
	require.NoError(t, err)
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		http.Redirect(w, r, "http://localhost:"+otherURL.Port()+"/elsewhere", http.StatusFound)
	})
	client := newClient(t, server.Server, Options{})

	_, err = client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirect is not allowed")
	assert.Equal(t, int32(0), other.calls.Load())
}

func TestAbsoluteURLMustStayOnHost(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {})
	client := newClient(t, server.Server, Options{})
	elsewhere, err := url.Parse("http://localhost:1/api/x")
	require.NoError(t, err)

	_, err = client.Do(context.Background(), Request{Op: "next page", Method: http.MethodGet, URL: elsewhere})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Equal(t, int32(0), server.calls.Load())
}

func TestAuthorizeRunsPerAttempt(t *testing.T) {
	var seen []string
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		seen = append(seen, r.Header.Get("Authorization"))
		if call == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	var tokens atomic.Int32
	client := newClient(t, server.Server, Options{MaxRetries: 1, Authorize: func(ctx context.Context) (string, error) {
		return "Bearer t" + string(rune('0'+tokens.Add(1))), nil
	}})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	require.NoError(t, err)
	assert.Equal(t, []string{"Bearer t1", "Bearer t2"}, seen)
}

func TestAuthorizeErrorStopsCall(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {})
	client := newClient(t, server.Server, Options{MaxRetries: 3, Authorize: func(ctx context.Context) (string, error) {
		return "", sdk.Upstreamf(sdk.CodeLogin, "token endpoint rejected the client")
	}})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	assert.ErrorIs(t, err, sdk.ErrForbidden)
	assert.Equal(t, int32(0), server.calls.Load())
}

func TestUnauthorizedCallback(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		w.WriteHeader(http.StatusUnauthorized)
	})
	dropped := false
	client := newClient(t, server.Server, Options{Unauthorized: func() { dropped = true }})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	assert.ErrorIs(t, err, sdk.ErrForbidden)
	assert.True(t, dropped)
}

func TestResponseLimit(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		w.Write(bytes.Repeat([]byte("x"), 2048))
	})
	client := newClient(t, server.Server, Options{MaxResponseBytes: 1024, MaxRetries: 2})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	assert.ErrorIs(t, err, sdk.ErrTooLarge)
	assert.Equal(t, int32(1), server.calls.Load())
}

func TestRetryLogOmitsURLAndQuery(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		if call == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	client := newClient(t, server.Server, Options{MaxRetries: 1, Logger: logger})

	query := url.Values{"name": {"Chalmers"}}
	_, err := client.Do(context.Background(), Request{Op: "search Patient", Method: http.MethodGet, Path: "Patient", Query: query})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), `"msg":"retrying upstream call"`)
	assert.Contains(t, logs.String(), `"status":503`)
	assert.NotContains(t, logs.String(), "Chalmers")
	assert.NotContains(t, logs.String(), "/api/")
}

func TestTransportErrorOmitsURL(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base, err := url.Parse("http://" + listener.Addr().String() + "/api/")
	require.NoError(t, err)
	listener.Close()
	client := New(Options{Plugin: "test", BaseURL: base})

	_, err = client.Do(context.Background(), Request{Op: "search", Method: http.MethodGet, Path: "Patient", Query: url.Values{"name": {"Chalmers"}}})
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrUnavailable)
	assert.NotContains(t, err.Error(), "Chalmers")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), "the plugin's endpoint", "the message says what to check")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{"seconds", "7", 7 * time.Second, true},
		{"zero", "0", 0, true},
		{"http date", "Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"rfc 850 date", "Saturday, 01-Mar-25 12:01:00 GMT", time.Minute, true},
		{"date in past", "Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
		{"negative", "-5", 0, false},
		{"empty", "", 0, false},
		{"garbage", "soon", 0, false},
		{"huge", "99999999999999999", time.Duration(1<<63-1) / time.Second * time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tc.value, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestIdempotent(t *testing.T) {
	withIfMatch := http.Header{"If-Match": {`W/"2"`}}
	assert.True(t, Idempotent("GET", nil))
	assert.True(t, Idempotent("HEAD", nil))
	assert.True(t, Idempotent("PUT", withIfMatch))
	assert.False(t, Idempotent("PUT", http.Header{}))
	assert.False(t, Idempotent("POST", withIfMatch))
	assert.False(t, Idempotent("PATCH", withIfMatch))
}

func TestErrorsAreOutcomes(t *testing.T) {
	server := newCountingServer(t, func(w http.ResponseWriter, r *http.Request, call int32) {
		w.WriteHeader(http.StatusNotFound)
	})
	client := newClient(t, server.Server, Options{})

	_, err := client.Do(context.Background(), Request{Op: "read", Method: http.MethodGet, Path: "x"})
	var outcome *sdk.Outcome
	assert.True(t, errors.As(err, &outcome))
}
