package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/jobs"
	"github.com/healthhub/healthhub/core/metrics"
	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
)

// HeaderTenant names the tenant whose data a request addresses. Without it
// a request addresses the subject's own tenant; another tenant's data is
// reachable only when the policy allows it, as under break-glass.
const HeaderTenant = "X-Tenant"

// Pipeline holds the parts every data request goes through: validation,
// policy, the store or a provider, obligations and the audit trail.
type Pipeline struct {
	Store     store.Store
	Validator *schema.Validator
	Policy    *policy.Engine
	Audit     *audit.Log
	Plugins   *plugin.Host
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
	// Jobs runs long provider operations in the background. With nil,
	// the operations that would run as jobs (long or async transcriptions,
	// EHR imports and pushes) are rejected with 501.
	Jobs *jobs.Queue
	// Operations sets the defaults of the provider operations.
	Operations OperationsConfig
	// BreakGlassWindow is how long a break-glass session lasts before the
	// same credential starts a new one; the policy decides how long it is
	// valid. Zero means 24 hours.
	BreakGlassWindow time.Duration

	breakGlass   breakGlassSessions
	consentCache consentCache
}

// request is the per-request context of a pipeline step.
type request struct {
	principal *auth.Principal
	// tenant is the tenant whose data the request addresses.
	tenant string
	id     string
	// obligations applies the decisions' obligations; one session per
	// request keeps pseudonyms consistent across its payloads.
	obligations *obligation.Session
}

func (p *Pipeline) newRequest(r *http.Request) (*request, error) {
	principal := PrincipalFrom(r.Context())
	if principal == nil {
		return nil, hubError(sdk.CodeLogin, "authenticate: no principal on an authenticated route")
	}
	tenant := principal.Tenant
	if header := strings.TrimSpace(r.Header.Get(HeaderTenant)); header != "" {
		if !isToken(header) || len(header) > 64 {
			return nil, hubError(sdk.CodeInvalid, "header %s %q is not a tenant id: use letters, digits, '.', '_' or '-'", HeaderTenant, truncate(header, 80))
		}
		tenant = header
	}
	return &request{principal: principal, tenant: tenant, id: RequestID(r.Context()), obligations: obligation.NewSession(obligation.Known{})}, nil
}

// resourceFacts are the facts of a resource that the policy reads: its
// patient and its security labels.
type resourceFacts struct {
	patient string
	labels  []policy.Coding
}

type factsJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Subject      *struct {
		Reference string `json:"reference"`
	} `json:"subject"`
	Patient *struct {
		Reference string `json:"reference"`
	} `json:"patient"`
	Beneficiary *struct {
		Reference string `json:"reference"`
	} `json:"beneficiary"`
	Meta *struct {
		Security []policy.Coding `json:"security"`
	} `json:"meta"`
}

// factsOf reads the patient reference and security labels of a resource.
// A Patient is its own patient; other resources name theirs in patient,
// subject (when it is a Patient) or beneficiary.
func factsOf(body []byte) resourceFacts {
	var doc factsJSON
	if json.Unmarshal(body, &doc) != nil {
		return resourceFacts{}
	}
	facts := resourceFacts{}
	if doc.Meta != nil {
		facts.labels = doc.Meta.Security
	}
	switch {
	case doc.ResourceType == "Patient" && doc.ID != "":
		facts.patient = "Patient/" + doc.ID
	case doc.Patient != nil && strings.HasPrefix(doc.Patient.Reference, "Patient/"):
		facts.patient = doc.Patient.Reference
	case doc.Subject != nil && strings.HasPrefix(doc.Subject.Reference, "Patient/"):
		facts.patient = doc.Subject.Reference
	case doc.Beneficiary != nil && strings.HasPrefix(doc.Beneficiary.Reference, "Patient/"):
		facts.patient = doc.Beneficiary.Reference
	}
	return facts
}

// decide evaluates the policy for action on a resource. Consents of the
// resource's patient are read from the store. An error of the engine is a
// deny, and the engine's Decision already carries its reason.
func (p *Pipeline) decide(ctx context.Context, req *request, action string, res policy.Resource, payload []byte) policy.Decision {
	return p.decideFor(ctx, req, action, res, payload, nil)
}

// decideFor is decide for a request that goes to provider, whose kind,
// name, version and data-use declaration the policy reads. A nil provider
// means that no provider is involved.
func (p *Pipeline) decideFor(ctx context.Context, req *request, action string, res policy.Resource, payload []byte, provider *policy.Provider) policy.Decision {
	subject, err := p.subject(ctx, req)
	if err != nil {
		p.Logger.ErrorContext(ctx, "read break-glass session failed; denying", "request_id", req.id, "error", err)
		return policy.Decision{Allow: false, Reasons: []policy.Reason{{Code: "hub.break_glass_unavailable", Message: "when the break-glass session began could not be read"}}, Obligations: policy.Obligations{AuditLevel: policy.AuditHigh}}
	}
	in := &policy.Input{
		Subject:  subject,
		Action:   action,
		Resource: res,
		Provider: provider,
		Context:  policy.Context{Time: time.Now(), RequestID: req.id},
	}
	in.Resource.Tenant = req.tenant
	if payload != nil {
		in.Resource.Payload = payload
	}
	if res.Patient != "" {
		consents, err := p.consents(ctx, req.tenant, res.Patient)
		if err != nil {
			p.Logger.ErrorContext(ctx, "read consents failed; denying", "request_id", req.id, "error", err)
			return policy.Decision{Allow: false, Reasons: []policy.Reason{{Code: "hub.consents_unavailable", Message: "the patient's consents could not be read"}}, Obligations: policy.Obligations{AuditLevel: policy.AuditHigh}}
		}
		in.Context.Consents = consents
	}

	start := time.Now()
	decision, err := p.Policy.Decide(ctx, in)
	result := metrics.ResultDeny
	switch {
	case err != nil:
		result = metrics.ResultError
		p.Logger.ErrorContext(ctx, "policy decision failed; denying", "request_id", req.id, "decision_id", decision.ID, "error", err)
	case decision.Allow:
		result = metrics.ResultAllow
	}
	p.Metrics.ObservePolicyDecision(result, time.Since(start))
	return decision
}

// subject describes the request's principal to the policy. Under
// break-glass it reads when the session began, which may fail.
func (p *Pipeline) subject(ctx context.Context, req *request) (policy.Subject, error) {
	principal := req.principal
	subject := policy.Subject{
		ID:           principal.ID,
		Roles:        principal.Roles,
		Tenant:       principal.Tenant,
		Scopes:       principal.Scopes,
		PurposeOfUse: principal.PurposeOfUse,
	}
	if principal.Patient != "" {
		subject.Patient = "Patient/" + principal.Patient
	}
	if principal.BreakGlassReason != "" {
		started, err := p.breakGlass.start(ctx, p.Store, principal, time.Now(), p.BreakGlassWindow)
		if err != nil {
			return subject, err
		}
		subject.BreakGlass = &policy.BreakGlass{Reason: principal.BreakGlassReason, StartedAt: started}
	}
	return subject, nil
}

// consents returns the active Consent resources about patient, from the
// consent cache or the store.
func (p *Pipeline) consents(ctx context.Context, tenant, patient string) ([]json.RawMessage, error) {
	now := time.Now()
	if consents, ok := p.consentCache.get(tenant, patient, now); ok {
		return consents, nil
	}
	params := map[string][]string{"patient": {patient}, "status": {"active"}, "_count": {"100"}}
	page, err := p.Store.Search(ctx, tenant, "Consent", params)
	if err != nil {
		return nil, fmt.Errorf("read consents of %s: %w", patient, err)
	}
	consents := make([]json.RawMessage, 0, len(page.Resources))
	for _, resource := range page.Resources {
		consents = append(consents, resource.Body)
	}
	p.consentCache.put(tenant, patient, consents, now)
	return consents, nil
}

// prefetchConsents reads the Consents of every patient of resources, other
// than skip, that the cache does not hold, in one search, so that deciding
// on a page of search results costs one query instead of one per patient.
func (p *Pipeline) prefetchConsents(ctx context.Context, tenant string, resources []*store.Resource, skip string) error {
	now := time.Now()
	var missing []string
	seen := map[string]bool{skip: true}
	for _, res := range resources {
		patient := factsOf(res.Body).patient
		if seen[patient] {
			continue
		}
		seen[patient] = true
		if _, ok := p.consentCache.get(tenant, patient, now); !ok {
			missing = append(missing, patient)
		}
	}
	if len(missing) == 0 {
		return nil
	}

	params := map[string][]string{"patient": {strings.Join(missing, ",")}, "status": {"active"}, "_count": {"1000"}}
	page, err := p.Store.Search(ctx, tenant, "Consent", params)
	if err != nil {
		return fmt.Errorf("read consents of %d patients: %w", len(missing), err)
	}
	byPatient := make(map[string][]json.RawMessage, len(missing))
	for _, resource := range page.Resources {
		patient := factsOf(resource.Body).patient
		byPatient[patient] = append(byPatient[patient], resource.Body)
	}
	// NOTE: a page of 1000 Consents cut short would leave patients without
	// some of theirs, so a full page is not cached and each patient is
	// read on its own instead.
	if page.Next != "" {
		return nil
	}
	for _, patient := range missing {
		p.consentCache.put(tenant, patient, byPatient[patient], now)
	}
	return nil
}

// consentWritten drops the cached consents of a tenant after a Consent of
// that tenant was written through this hub.
func (p *Pipeline) consentWritten(tenant string) { p.consentCache.forget(tenant) }

// forbidden turns a deny decision into the error the client receives: 403
// with the policy's reasons.
func forbidden(decision policy.Decision) error {
	issues := make([]sdk.Issue, 0, len(decision.Reasons))
	for _, reason := range decision.Reasons {
		issues = append(issues, sdk.Issue{
			Severity: sdk.SeverityError, Code: sdk.CodeForbidden, Diagnostics: reason.Message,
			Rule: reason.Code, Source: sdk.SourceHub,
		})
	}
	if len(issues) == 0 {
		issues = append(issues, sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeForbidden, Diagnostics: "denied by policy", Source: sdk.SourceHub})
	}
	return sdk.NewOutcome(issues...)
}

// auditEvent starts an audit event for a request and a decision.
func auditEvent(req *request, action, resourceType, id, patient string, decision policy.Decision) audit.Event {
	event := audit.Event{
		RequestID:    req.id,
		Subject:      req.principal.ID,
		Tenant:       req.tenant,
		Action:       action,
		ResourceType: resourceType,
		ResourceID:   id,
		Patient:      strings.TrimPrefix(patient, "Patient/"),
		PurposeOfUse: req.principal.PurposeOfUse,
		DecisionID:   decision.ID,
		Decision:     audit.Deny,
		Level:        decision.Obligations.AuditLevel,
		Review:       decision.Obligations.Review,
		Outcome:      "success",
	}
	if decision.Allow {
		event.Decision = audit.Allow
	}
	if req.principal.Tenant != req.tenant {
		event.SubjectTenant = req.principal.Tenant
	}
	event.BreakGlassReason = req.principal.BreakGlassReason
	event.Roles = req.principal.Roles
	event.PolicyRevision = decision.Revision
	for _, reason := range decision.Reasons {
		event.Reasons = append(event.Reasons, reason.Code)
	}
	return event
}

// ErrAuditUnavailable is returned when an audit event cannot be written: the
// hub then returns no data.
var ErrAuditUnavailable = errors.New("audit trail unavailable")

// record appends an audit event. A failure fails the request, because the
// hub returns no data without its audit record.
func (p *Pipeline) record(ctx context.Context, event audit.Event) error {
	// The append must finish even when the client has gone, so that a
	// change the store committed is not left unaudited.
	_, err := p.Audit.Append(context.WithoutCancel(ctx), event)
	p.Metrics.AuditAppended(err)
	if err != nil {
		p.Logger.ErrorContext(ctx, "audit append failed; refusing the response", "request_id", event.RequestID, "error", err)
		o := sdk.Errorf(sdk.CodeTransient, "audit trail unavailable: the hub returns no response without its audit record; retry later")
		return errors.Join(o.WithSource(sdk.SourceHub), ErrAuditUnavailable)
	}
	return nil
}

// outcomeCode is the audit outcome of an error: its first issue code.
func outcomeCode(err error) string {
	if err == nil {
		return "success"
	}
	return string(firstError(sdk.AsOutcome(err)).Code)
}

// applyObligations changes a resource as the decision requires and
// reports the changes by rule, for the audit trail. A path the obligation
// package cannot apply fails the request, because the hub must not return
// a payload it could not clean.
func (p *Pipeline) applyObligations(req *request, decision policy.Decision, body []byte) ([]byte, []audit.Obligation, error) {
	if decision.Obligations.Empty() {
		return body, nil, nil
	}
	out, report, err := req.obligations.ApplyJSON(decision.Obligations, body)
	if err != nil {
		return nil, nil, fmt.Errorf("apply obligations: %w", err)
	}
	return out, auditObligations(report), nil
}

// auditObligations groups a report's changes by rule into the audit
// trail's form: the rule and the JSON Pointers it changed.
func auditObligations(report *obligation.Report) []audit.Obligation {
	if report == nil || len(report.Changes) == 0 {
		return nil
	}
	var out []audit.Obligation
	index := map[string]int{}
	for _, change := range report.Changes {
		i, ok := index[change.Rule]
		if !ok {
			i = len(out)
			index[change.Rule] = i
			out = append(out, audit.Obligation{Rule: change.Rule})
		}
		if change.Path != "" {
			out[i].Fields = append(out[i].Fields, change.Path)
		}
	}
	return out
}

// breakGlassSessions finds when each subject's break-glass began, so that
// the policy can limit how long it lasts. A session is keyed by tenant,
// subject and credential, and ends when the credential changes or the
// window passes. The start is recorded in the store, which every hub
// sharing the database reads, and kept here for the window so that later
// requests of the session need no database read.
type breakGlassSessions struct {
	mu      sync.Mutex
	started map[string]time.Time
}

// maxCachedSessions bounds the break-glass sessions kept in memory.
const maxCachedSessions = 10_000

// start returns when p's break-glass session began, from memory or from
// the store, which starts a new session when none is within the window.
func (s *breakGlassSessions) start(ctx context.Context, st store.BreakGlassSessions, p *auth.Principal, now time.Time, window time.Duration) (time.Time, error) {
	if window <= 0 {
		window = 24 * time.Hour
	}
	key := sessionKey(p)
	cached := p.Tenant + "\x00" + key
	s.mu.Lock()
	started, ok := s.started[cached]
	s.mu.Unlock()
	if ok && now.Sub(started) < window {
		return started, nil
	}

	started, err := st.StartBreakGlass(ctx, p.Tenant, key, now, window)
	if err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started == nil {
		s.started = map[string]time.Time{}
	}
	if len(s.started) >= maxCachedSessions {
		for k, begun := range s.started {
			if now.Sub(begun) >= window {
				delete(s.started, k)
			}
		}
		if len(s.started) >= maxCachedSessions {
			clear(s.started)
		}
	}
	s.started[cached] = started
	return started, nil
}

// sessionKey identifies a break-glass session without naming the subject
// or the credential: the hex SHA-256 of both.
func sessionKey(p *auth.Principal) string {
	sum := sha256.Sum256([]byte(p.ID + "\x00" + p.CredentialID))
	return hex.EncodeToString(sum[:])
}

// consentTTL is how long the Consents of a patient are reused before they
// are read again. A Consent written through this hub takes effect at once;
// one written through another hub replica sharing the database takes
// effect within this time.
const consentTTL = 5 * time.Second

// maxCachedPatients bounds the consent cache.
const maxCachedPatients = 10_000

// consentCache keeps the Consents of recently seen patients, because
// reading them is a database search on every decision about a patient's
// data, and they change rarely.
type consentCache struct {
	mu      sync.Mutex
	entries map[string]cachedConsents
}

type cachedConsents struct {
	tenant   string
	consents []json.RawMessage
	fetched  time.Time
}

func (c *consentCache) get(tenant, patient string, now time.Time) ([]json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	entry, ok := c.entries[tenant+"\x00"+patient]
	if !ok || now.Sub(entry.fetched) >= consentTTL {
		return nil, false
	}
	return entry.consents, true
}

func (c *consentCache) put(tenant, patient string, consents []json.RawMessage, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cachedConsents{}
	}
	if len(c.entries) >= maxCachedPatients {
		for key, entry := range c.entries {
			if now.Sub(entry.fetched) >= consentTTL {
				delete(c.entries, key)
			}
		}
	}
	if len(c.entries) < maxCachedPatients {
		c.entries[tenant+"\x00"+patient] = cachedConsents{tenant: tenant, consents: consents, fetched: now}
	}
}

func (c *consentCache) forget(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, entry := range c.entries {
		if entry.tenant == tenant {
			delete(c.entries, key)
		}
	}
}
