package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/units"
	"github.com/healthhub/healthhub/sdk"
)

// fastConfig retries at once, so that tests see a job discarded within
// river's scheduler interval of a few seconds.
var fastConfig = Config{
	MaxAttempts:  2,
	RetryBackoff: units.Duration(10 * time.Millisecond),
	PollInterval: units.Duration(100 * time.Millisecond),
}

func openSQLite(t *testing.T, path string) *Queue {
	t.Helper()
	q, err := Open(context.Background(), fastConfig, Database{Path: path}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close(context.Background()) })
	return q
}

// waitFinished polls the job until it has ended.
func waitFinished(t *testing.T, q *Queue, tenant string, id int64) *Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		job, err := q.Get(context.Background(), tenant, id)
		require.NoError(t, err)
		if job.Finished() {
			return job
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %d did not finish within 60s", id)
	return nil
}

type echoParams struct {
	Fail      int  `json:"fail"`
	Permanent bool `json:"permanent"`
}

// echoHandler fails the first Fail attempts and then returns its params.
func echoHandler(calls *atomic.Int32) Handler {
	return func(ctx context.Context, job *Job, progress func(any) error) (any, error) {
		calls.Add(1)
		var p echoParams
		if err := json.Unmarshal(job.Task.Params, &p); err != nil {
			return nil, Permanent(err)
		}
		if err := progress(map[string]int{"done": 0}); err != nil {
			return nil, err
		}
		if p.Permanent {
			return nil, Permanent(sdk.Invalidf("/blob", "transcribe: blob is missing"))
		}
		if job.Attempt <= p.Fail {
			return nil, sdk.Upstreamf(sdk.CodeTransient, "vendor unavailable on attempt %d", job.Attempt)
		}
		return map[string]any{"attempt": job.Attempt}, nil
	}
}

func TestQueueRunsJobsToTheirEnd(t *testing.T) {
	q := openSQLite(t, filepath.Join(t.TempDir(), "hub.db"))
	var calls atomic.Int32
	require.NoError(t, q.Handle("echo", echoHandler(&calls)))
	require.NoError(t, q.Start(context.Background()))

	tests := []struct {
		name     string
		params   string
		state    string
		attempts int
		errors   int
		code     sdk.IssueCode
	}{
		{"succeeds", `{}`, StateCompleted, 1, 0, ""},
		{"succeeds after a retry", `{"fail":1}`, StateCompleted, 2, 1, sdk.CodeTransient},
		{"discarded after max attempts", `{"fail":5}`, StateDiscarded, 2, 2, sdk.CodeTransient},
		{"permanent error cancels", `{"permanent":true}`, StateCancelled, 1, 1, sdk.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			queued, err := q.Enqueue(context.Background(), Task{Kind: "echo", Tenant: "north", Subject: "dr-lee", Params: json.RawMessage(tc.params)})
			require.NoError(t, err)
			job := waitFinished(t, q, "north", queued.ID)
			assert.Equal(t, tc.state, job.State)
			assert.Equal(t, tc.attempts, job.Attempt)
			require.Len(t, job.Errors, tc.errors)
			if tc.errors > 0 {
				last := job.LastError()
				require.NotNil(t, last)
				assert.Equal(t, tc.code, last.Issues[0].Code, "the outcome keeps its issue code")
				assert.NotEmpty(t, last.Issues[0].Diagnostics)
			}
			if tc.state == StateCompleted {
				assert.JSONEq(t, `{"attempt":`+string(rune('0'+tc.attempts))+`}`, string(job.Output))
			}
		})
	}
}

func TestQueueRetriesDiscardedJob(t *testing.T) {
	q := openSQLite(t, filepath.Join(t.TempDir(), "hub.db"))
	var calls atomic.Int32
	failing := atomic.Bool{}
	failing.Store(true)
	require.NoError(t, q.Handle("flaky", func(ctx context.Context, job *Job, _ func(any) error) (any, error) {
		calls.Add(1)
		if failing.Load() {
			return nil, sdk.Upstreamf(sdk.CodeTransient, "vendor down")
		}
		return "done", nil
	}))
	require.NoError(t, q.Start(context.Background()))

	queued, err := q.Enqueue(context.Background(), Task{Kind: "flaky", Tenant: "north"})
	require.NoError(t, err)
	job := waitFinished(t, q, "north", queued.ID)
	require.Equal(t, StateDiscarded, job.State)
	require.Len(t, job.Errors, 2)

	_, err = q.Retry(context.Background(), "south", queued.ID)
	assert.ErrorIs(t, err, sdk.ErrNotFound, "another tenant cannot retry the job")

	failing.Store(false)
	_, err = q.Retry(context.Background(), "north", queued.ID)
	require.NoError(t, err)
	job = waitFinished(t, q, "north", queued.ID)
	assert.Equal(t, StateCompleted, job.State)
	assert.JSONEq(t, `"done"`, string(job.Output))
	assert.Equal(t, int32(3), calls.Load())
}

func TestQueueKeepsJobsAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	first, err := Open(context.Background(), fastConfig, Database{Path: path}, nil)
	require.NoError(t, err)
	queued, err := first.Enqueue(context.Background(), Task{Kind: "echo", Tenant: "north", Params: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.NoError(t, first.Close(context.Background()))

	second := openSQLite(t, path)
	var calls atomic.Int32
	require.NoError(t, second.Handle("echo", echoHandler(&calls)))
	require.NoError(t, second.Start(context.Background()))
	job := waitFinished(t, second, "north", queued.ID)
	assert.Equal(t, StateCompleted, job.State)
	assert.Equal(t, int32(1), calls.Load())
}

func TestQueueListsByTenant(t *testing.T) {
	q := openSQLite(t, filepath.Join(t.TempDir(), "hub.db"))
	for _, tenant := range []string{"north", "north", "south"} {
		_, err := q.Enqueue(context.Background(), Task{Kind: "echo", Tenant: tenant})
		require.NoError(t, err)
	}
	page, err := q.List(context.Background(), Filter{Tenant: "north"})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 2)
	assert.Greater(t, page.Jobs[0].ID, page.Jobs[1].ID, "newest first")
	for _, job := range page.Jobs {
		assert.Equal(t, "north", job.Task.Tenant)
		assert.Equal(t, StateAvailable, job.State)
	}

	page, err = q.List(context.Background(), Filter{Tenant: "north", Limit: 1})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
	require.NotEmpty(t, page.Next)
	next, err := q.List(context.Background(), Filter{Tenant: "north", Limit: 1, Cursor: page.Next})
	require.NoError(t, err)
	require.Len(t, next.Jobs, 1)
	assert.Less(t, next.Jobs[0].ID, page.Jobs[0].ID)

	_, err = q.Get(context.Background(), "south", page.Jobs[0].ID)
	assert.ErrorIs(t, err, sdk.ErrNotFound)
	_, err = q.List(context.Background(), Filter{Cursor: "garbage"})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func TestQueueOnPostgres(t *testing.T) {
	url := dbtest.PostgresSchema(t)
	q, err := Open(context.Background(), fastConfig, Database{Driver: "postgres", URL: url}, nil)
	require.NoError(t, err, "open the queue on the test PostgreSQL")
	t.Cleanup(func() { _ = q.Close(context.Background()) })
	var calls atomic.Int32
	require.NoError(t, q.Handle("echo", echoHandler(&calls)))
	require.NoError(t, q.Start(context.Background()))
	queued, err := q.Enqueue(context.Background(), Task{Kind: "echo", Tenant: "north", Params: json.RawMessage(`{"fail":1}`)})
	require.NoError(t, err)
	job := waitFinished(t, q, queued.Task.Tenant, queued.ID)
	assert.Equal(t, StateCompleted, job.State)
	assert.Equal(t, 2, job.Attempt)

	page, err := q.List(context.Background(), Filter{Tenant: queued.Task.Tenant})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
}

func TestOpenRejectsUnknownDriver(t *testing.T) {
	_, err := Open(context.Background(), Config{}, Database{Driver: "mysql"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown driver "mysql"`)
	assert.False(t, errors.Is(err, ErrClosed))
}

func TestCloseCancelsStuckJobWhichRunsAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	first, err := Open(context.Background(), fastConfig, Database{Path: path}, nil)
	require.NoError(t, err)
	first.stopAfter = 200 * time.Millisecond
	started := make(chan struct{})
	require.NoError(t, first.Handle("slow", func(ctx context.Context, job *Job, _ func(any) error) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	require.NoError(t, first.Start(context.Background()))
	queued, err := first.Enqueue(context.Background(), Task{Kind: "slow", Tenant: "north"})
	require.NoError(t, err)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the job did not start within 30s")
	}
	require.NoError(t, first.Close(context.Background()))

	second := openSQLite(t, path)
	require.NoError(t, second.Handle("slow", func(context.Context, *Job, func(any) error) (any, error) { return "done", nil }))
	require.NoError(t, second.Start(context.Background()))
	job := waitFinished(t, second, "north", queued.ID)
	assert.Equal(t, StateCompleted, job.State)
	assert.Equal(t, 2, job.Attempt, "the cancelled attempt counts")
	require.Len(t, job.Errors, 1)
}
