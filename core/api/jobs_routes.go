package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/fhir"
	"github.com/healthhub/healthhub/core/jobs"
	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// Job kinds of the provider operations.
const (
	JobTranscription = "transcription"
	JobEHRImport     = "ehr.import"
	JobEHRPush       = "ehr.push"
)

// jobPrincipal is the part of the principal a job runs as. It holds ids,
// roles and scopes, no patient data.
type jobPrincipal struct {
	ID           string   `json:"id"`
	Tenant       string   `json:"tenant"`
	Roles        []string `json:"roles"`
	Scopes       []string `json:"scopes,omitempty"`
	Patient      string   `json:"patient,omitempty"`
	PurposeOfUse string   `json:"purpose_of_use,omitempty"`
	CredentialID string   `json:"credential_id,omitempty"`
}

// jobParams are the parameters of every provider job: who queued it and
// the operation's request, which holds references and blob keys only.
type jobParams struct {
	Principal jobPrincipal    `json:"principal"`
	Tenant    string          `json:"tenant"`
	Request   json.RawMessage `json:"request"`
}

// jobOutput is the output a provider job keeps: references to the
// resources it stored, never the data itself, and counts for progress.
type jobOutput struct {
	Resources []string `json:"resources,omitempty"`
	// External lists the references an EHR push created in the external
	// system, such as "Observation/981".
	External []string `json:"external,omitempty"`
	Total    int      `json:"total,omitempty"`
	Done     int      `json:"done,omitempty"`
	Failed   int      `json:"failed,omitempty"`
}

// enqueue queues a provider job for the request's subject.
func (p *Pipeline) enqueue(ctx context.Context, req *request, kind string, operation any) (*jobs.Job, error) {
	if p.Jobs == nil {
		return nil, hubError(sdk.CodeNotSupported, "background jobs are off in this hub: configure the jobs section")
	}
	encoded, err := json.Marshal(operation)
	if err != nil {
		return nil, err
	}
	principal := req.principal
	params, err := json.Marshal(jobParams{
		Principal: jobPrincipal{
			ID: principal.ID, Tenant: principal.Tenant, Roles: principal.Roles, Scopes: principal.Scopes,
			Patient: principal.Patient, PurposeOfUse: principal.PurposeOfUse, CredentialID: principal.CredentialID,
		},
		Tenant:  req.tenant,
		Request: encoded,
	})
	if err != nil {
		return nil, err
	}
	return p.Jobs.Enqueue(ctx, jobs.Task{Kind: kind, Tenant: req.tenant, Subject: principal.ID, Params: params})
}

// jobWork does one provider job as the subject that queued it.
type jobWork func(ctx context.Context, req *request, operation json.RawMessage, progress func(jobOutput) error) (jobOutput, error)

// RegisterJobs registers the handlers of the provider jobs on q. Call it
// before q.Start.
func (p *Pipeline) RegisterJobs(q *jobs.Queue) error {
	for kind, work := range map[string]jobWork{
		JobTranscription: p.transcriptionJob,
		JobEHRImport:     p.ehrImportJob,
		JobEHRPush:       p.ehrPushJob,
	} {
		if err := q.Handle(kind, p.jobHandler(work)); err != nil {
			return err
		}
	}
	return nil
}

// jobHandler runs work through the pipeline as the job's subject: every
// decision is made again when the job runs. Errors a retry cannot fix end
// the job at once.
func (p *Pipeline) jobHandler(work jobWork) jobs.Handler {
	return func(ctx context.Context, job *jobs.Job, progress func(any) error) (any, error) {
		var params jobParams
		if err := json.Unmarshal(job.Task.Params, &params); err != nil {
			return nil, jobs.Permanent(fmt.Errorf("read job %d: %w", job.ID, err))
		}
		principal := &auth.Principal{
			ID: params.Principal.ID, Tenant: params.Principal.Tenant, Roles: params.Principal.Roles,
			Scopes: params.Principal.Scopes, Patient: params.Principal.Patient,
			PurposeOfUse: params.Principal.PurposeOfUse, CredentialID: params.Principal.CredentialID, Method: "job",
		}
		req := &request{principal: principal, tenant: params.Tenant, id: "job-" + strconv.FormatInt(job.ID, 10), obligations: obligation.NewSession(obligation.Known{})}
		output, err := work(ctx, req, params.Request, func(o jobOutput) error { return progress(o) })
		if err != nil && permanentFailure(err) {
			return output, jobs.Permanent(err)
		}
		return output, err
	}
}

// permanentFailure reports whether err is one that a retry cannot fix:
// bad input, a denial, a missing resource or an unsupported operation.
func permanentFailure(err error) bool {
	for _, sentinel := range []error{sdk.ErrInvalid, sdk.ErrForbidden, sdk.ErrNotFound, sdk.ErrNotSupported, sdk.ErrTooLarge} {
		if errors.Is(err, sentinel) {
			return true
		}
	}
	return false
}

// jobView is a job as the /v1/jobs routes return it.
type jobView struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// State is river's state of the job.
	State       string     `json:"state"`
	Attempt     int        `json:"attempt"`
	MaxAttempts int        `json:"max_attempts"`
	CreatedAt   time.Time  `json:"created_at"`
	ScheduledAt time.Time  `json:"scheduled_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	// Progress is the latest output: counts while the job runs, and the
	// references of what it stored once it ends.
	Progress *jobOutput `json:"progress,omitempty"`
	// Resources are the resources the job stored, read through the
	// policy, once it succeeded.
	Resources []json.RawMessage `json:"resources,omitempty"`
	// Outcome is the OperationOutcome of the latest failed attempt.
	Outcome any `json:"outcome,omitempty"`
	// Errors lists every failed attempt.
	Errors []jobAttemptView `json:"errors,omitempty"`
}

type jobAttemptView struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Outcome any       `json:"outcome"`
}

// Job statuses, a summary of river's states for clients.
const (
	jobQueued    = "queued"
	jobRunning   = "running"
	jobRetrying  = "retrying"
	jobSucceeded = "succeeded"
	jobFailed    = "failed"
)

// jobStatus summarizes a job's state. A job that failed an attempt and
// waits for the next is retrying, whether river keeps it as retryable or,
// when the next attempt is due within seconds, already as available.
func jobStatus(job *jobs.Job) string {
	switch job.State {
	case jobs.StateRunning:
		return jobRunning
	case jobs.StateCompleted:
		return jobSucceeded
	case jobs.StateDiscarded, jobs.StateCancelled:
		return jobFailed
	}
	if job.State == jobs.StateRetryable || job.Attempt > 0 {
		return jobRetrying
	}
	return jobQueued
}

func viewJob(job *jobs.Job) jobView {
	v := jobView{
		ID: strconv.FormatInt(job.ID, 10), Kind: job.Task.Kind, Status: jobStatus(job), State: job.State,
		Attempt: job.Attempt, MaxAttempts: job.MaxAttempts, CreatedAt: job.CreatedAt, ScheduledAt: job.ScheduledAt,
		FinishedAt: job.FinalizedAt,
	}
	var output jobOutput
	if len(job.Output) > 0 && json.Unmarshal(job.Output, &output) == nil {
		v.Progress = &output
	}
	for _, attempt := range job.Errors {
		v.Errors = append(v.Errors, jobAttemptView{Attempt: attempt.Attempt, At: attempt.At, Outcome: fhir.NewOperationOutcome(attempt.Outcome)})
	}
	if last := job.LastError(); last != nil && job.State != jobs.StateCompleted {
		v.Outcome = fhir.NewOperationOutcome(last)
	}
	return v
}

// jobFor returns the job of the URL when the subject may see it: the
// subject that queued it, or an admin of its tenant.
func (o *operationRoutes) jobFor(r *http.Request, req *request) (*jobs.Job, error) {
	if o.p.Jobs == nil {
		return nil, hubError(sdk.CodeNotFound, "no job %q: background jobs are off in this hub", truncate(r.PathValue("id"), 40))
	}
	id, err := jobs.ParseID(r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	job, err := o.p.Jobs.Get(r.Context(), req.tenant, id)
	if err != nil {
		return nil, err
	}
	if job.Task.Subject != req.principal.ID && !req.principal.HasRole(RoleAdmin) {
		return nil, hubError(sdk.CodeNotFound, "no job %d", id)
	}
	return job, nil
}

// getJob serves GET /v1/jobs/{id}: the job's state, progress and errors,
// and once it succeeded the resources it stored.
func (o *operationRoutes) getJob(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	job, err := o.jobFor(r, req)
	if err != nil {
		return err
	}
	view := viewJob(job)
	if job.State == jobs.StateCompleted && view.Progress != nil {
		if view.Resources, err = o.p.readStored(r.Context(), req, view.Progress.Resources); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, view)
}

// readStored reads resources by reference through the policy, as a read
// of each, with the read's obligations applied.
func (p *Pipeline) readStored(ctx context.Context, req *request, references []string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for _, reference := range references {
		resourceType, id, ok := strings.Cut(reference, "/")
		if !ok {
			continue
		}
		res, err := p.Store.Read(ctx, req.tenant, resourceType, id)
		if errors.Is(err, sdk.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		facts := factsOf(res.Body)
		decision := p.decide(ctx, req, "read", policy.Resource{Type: resourceType, ID: id, Patient: facts.patient, SecurityLabels: facts.labels}, nil)
		event := auditEvent(req, "read", resourceType, id, facts.patient, decision)
		if !decision.Allow {
			event.Outcome = string(sdk.CodeForbidden)
			if err := p.record(ctx, event); err != nil {
				return nil, err
			}
			continue
		}
		body, applied, err := p.applyObligations(req, decision, res.Body)
		event.Obligations = applied
		event.Outcome = outcomeCode(err)
		if auditErr := p.record(ctx, event); auditErr != nil || err != nil {
			return nil, joinAudit(auditErr, err)
		}
		out = append(out, body)
	}
	return out, nil
}

// listJobs serves GET /v1/jobs: the tenant's jobs, newest first. An admin
// gets every subject's jobs, other subjects their own.
func (o *operationRoutes) listJobs(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	if o.p.Jobs == nil {
		return writeJSON(w, http.StatusOK, map[string]any{"jobs": []jobView{}})
	}

	query := r.URL.Query()
	filter := jobs.Filter{Tenant: req.tenant, Kind: query.Get("kind"), Cursor: query.Get("_cursor")}
	if state := query.Get("state"); state != "" {
		filter.States = strings.Split(state, ",")
	}
	if count := query.Get("_count"); count != "" {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return issueAt(sdk.CodeInvalid, "", "_count", "_count %q must be a positive whole number", truncate(count, 20))
		}
		filter.Limit = n
	}

	page, err := o.p.Jobs.List(r.Context(), filter)
	if err != nil {
		return err
	}
	views := []jobView{}
	for _, job := range page.Jobs {
		if job.Task.Subject == req.principal.ID || req.principal.HasRole(RoleAdmin) {
			views = append(views, viewJob(job))
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"jobs": views, "next": page.Next})
}

// retryJob serves POST /v1/jobs/{id}/retry: a failed job runs again from
// its first attempt.
func (o *operationRoutes) retryJob(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	job, err := o.jobFor(r, req)
	if err != nil {
		return err
	}
	job, err = o.p.Jobs.Retry(r.Context(), req.tenant, job.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", o.server.baseURL(r)+"/v1/jobs/"+strconv.FormatInt(job.ID, 10))
	return writeJSON(w, http.StatusAccepted, viewJob(job))
}

// accepted responds to a request that runs as a job: 202 with the job's
// URL.
func (o *operationRoutes) accepted(w http.ResponseWriter, r *http.Request, job *jobs.Job) error {
	location := o.server.baseURL(r) + "/v1/jobs/" + strconv.FormatInt(job.ID, 10)
	w.Header().Set("Location", location)
	w.Header().Set("Retry-After", "1")
	view := viewJob(job)
	return writeJSON(w, http.StatusAccepted, map[string]any{"job": view, "job_url": location})
}
