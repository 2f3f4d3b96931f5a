package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/healthhub/healthhub/sdk"
)

// Task describes a job: its kind, the tenant and subject it runs for, and
// its parameters, which hold references and blob keys, never patient data
// in clear.
type Task struct {
	// Kind names the handler, such as "transcription".
	Kind string `json:"kind"`
	// Tenant is the tenant the job reads and writes.
	Tenant string `json:"tenant"`
	// Subject is the id of the subject that queued the job.
	Subject string `json:"subject"`
	// Params are the kind's parameters.
	Params json.RawMessage `json:"params,omitempty"`
}

// States of a Job, as river names them.
const (
	StateAvailable = string(rivertype.JobStateAvailable)
	StateScheduled = string(rivertype.JobStateScheduled)
	StateRunning   = string(rivertype.JobStateRunning)
	StateRetryable = string(rivertype.JobStateRetryable)
	StateCompleted = string(rivertype.JobStateCompleted)
	StateDiscarded = string(rivertype.JobStateDiscarded)
	StateCancelled = string(rivertype.JobStateCancelled)
)

// Job is a job as stored.
type Job struct {
	ID   int64 `json:"id"`
	Task Task  `json:"task"`
	// State is one of the State constants.
	State string `json:"state"`
	// Attempt counts the attempts so far; MaxAttempts is the limit.
	Attempt     int        `json:"attempt"`
	MaxAttempts int        `json:"max_attempts"`
	CreatedAt   time.Time  `json:"created_at"`
	ScheduledAt time.Time  `json:"scheduled_at"`
	FinalizedAt *time.Time `json:"finalized_at,omitempty"`
	// Output is the handler's output, or the progress it reported while
	// running; null when there is none.
	Output json.RawMessage `json:"output,omitempty"`
	// Errors lists the failed attempts, oldest first.
	Errors []AttemptError `json:"errors,omitempty"`
}

// AttemptError is the error of one failed attempt.
type AttemptError struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// Outcome is the error with every issue, as the handler returned it.
	Outcome *sdk.Outcome `json:"outcome"`
}

// Finished reports whether the job has ended: completed, discarded or
// cancelled.
func (j *Job) Finished() bool {
	return j.State == StateCompleted || j.State == StateDiscarded || j.State == StateCancelled
}

// LastError returns the outcome of the latest failed attempt, or nil.
func (j *Job) LastError() *sdk.Outcome {
	if len(j.Errors) == 0 {
		return nil
	}
	return j.Errors[len(j.Errors)-1].Outcome
}

// Handler does the work of one job kind. It returns the output to keep
// on the job row, such as the references of the resources it stored.
// Progress records an interim output while the job runs.
type Handler func(ctx context.Context, job *Job, progress func(output any) error) (output any, err error)

// permanentError marks an error that a retry cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that a retry cannot fix, such as invalid
// input or a policy denial: the job then ends at once, cancelled, instead
// of being retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type worker struct {
	river.WorkerDefaults[taskArgs]
	q       *Queue
	handler Handler
}

// Work runs the handler and turns its error into the outcome JSON that the
// job row keeps.
func (w *worker) Work(ctx context.Context, rj *river.Job[taskArgs]) error {
	job := jobFromRow(rj.JobRow)
	progress := func(output any) error {
		if err := river.RecordOutput(ctx, output); err != nil {
			return err
		}
		client, err := w.q.current()
		if err != nil {
			return err
		}
		_, err = client.JobUpdate(ctx, rj.ID, &river.JobUpdateParams{})
		return err
	}
	output, err := w.handler(ctx, job, progress)
	if output != nil {
		if recordErr := river.RecordOutput(ctx, output); recordErr != nil {
			err = errors.Join(err, recordErr)
		}
	}
	if err == nil {
		return nil
	}

	outcome := sdk.AsOutcome(err)
	encoded, marshalErr := json.Marshal(outcome)
	if marshalErr != nil {
		encoded = []byte(err.Error())
	}
	w.q.logger.WarnContext(ctx, "job attempt failed", "job_id", rj.ID, "kind", rj.Kind, "tenant", job.Task.Tenant,
		"attempt", rj.Attempt, "max_attempts", rj.MaxAttempts, "code", firstCode(outcome))
	failure := errors.New(string(encoded))
	var permanent *permanentError
	if errors.As(err, &permanent) {
		return river.JobCancel(failure)
	}
	return failure
}

func firstCode(o *sdk.Outcome) sdk.IssueCode {
	for _, issue := range o.Issues {
		if issue.Severity == sdk.SeverityError || issue.Severity == sdk.SeverityFatal {
			return issue.Code
		}
	}
	return sdk.CodeException
}

func jobFromRow(row *rivertype.JobRow) *Job {
	job := &Job{
		ID: row.ID, State: string(row.State), Attempt: row.Attempt, MaxAttempts: row.MaxAttempts,
		CreatedAt: row.CreatedAt, ScheduledAt: row.ScheduledAt, FinalizedAt: row.FinalizedAt,
	}
	var args taskArgs
	if err := json.Unmarshal(row.EncodedArgs, &args); err == nil {
		job.Task = args.Task
	}
	job.Task.Kind = row.Kind
	job.Output = row.Output()
	for _, e := range row.Errors {
		job.Errors = append(job.Errors, AttemptError{Attempt: e.Attempt, At: e.At, Outcome: decodeOutcome(e.Error)})
	}
	return job
}

// decodeOutcome reads the outcome an attempt stored. river prefixes the
// error of a cancelled job with its own text, so the JSON starts at the
// first brace. An error that is not outcome JSON, such as a panic river
// caught, becomes an exception issue.
func decodeOutcome(text string) *sdk.Outcome {
	var o sdk.Outcome
	if i := strings.IndexByte(text, '{'); i >= 0 && json.Unmarshal([]byte(text[i:]), &o) == nil && len(o.Issues) > 0 {
		return &o
	}
	return sdk.Errorf(sdk.CodeException, "%s", text).WithSource(sdk.SourceHub)
}

// backoff is the retry policy: base doubled per attempt, capped, with 10%
// jitter so that jobs failed together do not retry together.
type backoff struct {
	base, max time.Duration
}

// NextRetry returns when the job runs again.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	wait := b.base
	for i := 1; i < job.Attempt && wait < b.max; i++ {
		wait *= 2
	}
	wait = min(wait, b.max)
	jitter := time.Duration(rand.Int64N(int64(wait)/10 + 1))
	return time.Now().UTC().Add(wait - wait/20 + jitter)
}

// Enqueue queues a task and returns its job.
func (q *Queue) Enqueue(ctx context.Context, task Task) (*Job, error) {
	if task.Kind == "" || task.Tenant == "" {
		return nil, fmt.Errorf("enqueue job: kind and tenant are required")
	}
	client, err := q.current()
	if err != nil {
		return nil, err
	}
	metadata, err := encodeMetadata(task)
	if err != nil {
		return nil, fmt.Errorf("enqueue %s job: %w", task.Kind, err)
	}
	result, err := client.Insert(ctx, taskArgs{Task: task}, &river.InsertOpts{Metadata: metadata})
	if err != nil {
		return nil, fmt.Errorf("enqueue %s job: %w", task.Kind, err)
	}
	q.logger.InfoContext(ctx, "job queued", "job_id", result.Job.ID, "kind", task.Kind, "tenant", task.Tenant)
	return jobFromRow(result.Job), nil
}

// Get returns the job with id of tenant. A job of another tenant is
// reported as not found.
func (q *Queue) Get(ctx context.Context, tenant string, id int64) (*Job, error) {
	client, err := q.current()
	if err != nil {
		return nil, err
	}
	row, err := client.JobGet(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, sdk.NotFoundf("no job %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get job %d: %w", id, err)
	}
	job := jobFromRow(row)
	if tenant != "" && job.Task.Tenant != tenant {
		return nil, sdk.NotFoundf("no job %d", id)
	}
	return job, nil
}

// Retry runs a job of tenant again: a discarded, cancelled or completed
// job from its first attempt, a retryable or scheduled one at once. A
// running job cannot be retried.
func (q *Queue) Retry(ctx context.Context, tenant string, id int64) (*Job, error) {
	job, err := q.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if job.State == StateRunning {
		return nil, sdk.Errorf(sdk.CodeConflict, "retry job %d: it is running; wait until it ends", id)
	}
	client, err := q.current()
	if err != nil {
		return nil, err
	}
	row, err := client.JobRetry(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	q.logger.InfoContext(ctx, "job retried by request", "job_id", id, "kind", job.Task.Kind, "tenant", job.Task.Tenant)
	return jobFromRow(row), nil
}

// Filter selects jobs for List.
type Filter struct {
	// Tenant restricts the list to one tenant; empty lists every tenant.
	Tenant string
	// States restricts the list to jobs in these states.
	States []string
	// Kind restricts the list to one kind.
	Kind string
	// Limit is the page size. Default 100, at most 1000.
	Limit int
	// Cursor continues a list from Page.Next.
	Cursor string
}

// Page is one page of jobs, newest first.
type Page struct {
	Jobs []*Job
	// Next continues the list; empty on the last page.
	Next string
}

// List returns a page of jobs, newest first.
func (q *Queue) List(ctx context.Context, f Filter) (*Page, error) {
	client, err := q.current()
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)

	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(f.States) > 0 {
		states := make([]rivertype.JobState, len(f.States))
		for i, s := range f.States {
			states[i] = rivertype.JobState(s)
		}
		params = params.States(states...)
	}
	if f.Kind != "" {
		params = params.Kinds(f.Kind)
	}
	if f.Tenant != "" {
		params = params.Where("metadata ->> 'tenant' = @tenant", river.NamedArgs{"tenant": f.Tenant})
	}
	if f.Cursor != "" {
		var cursor river.JobListCursor
		if err := cursor.UnmarshalText([]byte(f.Cursor)); err != nil {
			return nil, sdk.Invalidf("", "list jobs: the cursor %q is not one a list returned", truncate(f.Cursor, 40))
		}
		params = params.After(&cursor)
	}

	result, err := client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	page := &Page{}
	for _, row := range result.Jobs {
		page.Jobs = append(page.Jobs, jobFromRow(row))
	}
	if len(result.Jobs) == limit && result.LastCursor != nil {
		text, err := result.LastCursor.MarshalText()
		if err == nil {
			page.Next = string(text)
		}
	}
	return page, nil
}

// ParseID reads a job id from text.
func ParseID(text string) (int64, error) {
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || id <= 0 {
		return 0, sdk.NotFoundf("no job %q: job ids are positive whole numbers", truncate(text, 40))
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
