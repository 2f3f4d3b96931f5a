package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
)

// fhirConsumes are the media types the /fhir routes accept for bodies.
var fhirConsumes = []string{ContentTypeFHIR, ContentTypeJSON}

// fhirProduces are the media types the /fhir routes write, the FHIR one
// first, with the FHIR DSTU2 name of JSON that older clients send.
var fhirProduces = []string{ContentTypeFHIR, ContentTypeJSON, "application/json+fhir"}

// RegisterPipeline adds the /fhir and /v1 routes served through p.
func (s *Server) RegisterPipeline(p *Pipeline) {
	f := &fhirRoutes{server: s, p: p}
	s.Handle(Route{Method: http.MethodGet, Path: "/fhir/metadata", Produces: fhirProduces, Auth: AuthNone, Handler: f.metadata})
	s.Handle(Route{Method: http.MethodPost, Path: "/fhir", Produces: fhirProduces, Consumes: fhirConsumes, Handler: f.bundle})
	s.Handle(Route{Method: http.MethodGet, Path: "/fhir/{type}", Produces: fhirProduces, Handler: f.search})
	s.Handle(Route{Method: http.MethodPost, Path: "/fhir/{type}", Produces: fhirProduces, Consumes: fhirConsumes, Handler: f.create})
	s.Handle(Route{Method: http.MethodGet, Path: "/fhir/{type}/{id}", Produces: fhirProduces, Handler: f.read})
	s.Handle(Route{Method: http.MethodPut, Path: "/fhir/{type}/{id}", Produces: fhirProduces, Consumes: fhirConsumes, Handler: f.update})
	s.Handle(Route{Method: http.MethodDelete, Path: "/fhir/{type}/{id}", Produces: fhirProduces, Handler: f.delete})
	s.Handle(Route{Method: http.MethodGet, Path: "/fhir/{type}/_history", Produces: fhirProduces, Handler: f.typeHistory})
	s.Handle(Route{Method: http.MethodGet, Path: "/fhir/{type}/{id}/_history", Produces: fhirProduces, Handler: f.history})
	s.Handle(Route{Method: http.MethodGet, Path: "/fhir/{type}/{id}/_history/{vid}", Produces: fhirProduces, Handler: f.vread})
	s.registerV1(p)
	s.registerOperations(p)
}

type fhirRoutes struct {
	server *Server
	p      *Pipeline
}

// start checks the resource type and, with withID, the id of the URL, and
// builds the request: the subject and tenant the handler acts for.
func (f *fhirRoutes) start(r *http.Request, withID bool) (string, string, *request, error) {
	resourceType := r.PathValue("type")
	if !resourceTypePattern.MatchString(resourceType) || !f.p.Validator.HasResourceType(resourceType) {
		return "", "", nil, hubError(sdk.CodeNotFound, "resource type %q is not supported: see /fhir/metadata for the supported types", truncate(resourceType, 80))
	}
	id := ""
	if withID {
		id = r.PathValue("id")
		if err := checkID(id); err != nil {
			return "", "", nil, err
		}
	}
	req, err := f.p.newRequest(r)
	if err != nil {
		return "", "", nil, err
	}
	return resourceType, id, req, nil
}

// typeHistory rejects a request for the history of a whole resource type,
// which the store does not keep.
func (f *fhirRoutes) typeHistory(w http.ResponseWriter, r *http.Request) error {
	return hubError(sdk.CodeNotSupported, "the history of a whole resource type is not served: read one resource's history at /fhir/%s/{id}/_history", truncate(r.PathValue("type"), 80))
}

func (f *fhirRoutes) read(w http.ResponseWriter, r *http.Request) error {
	resourceType, id, req, err := f.start(r, true)
	if err != nil {
		return err
	}
	res, err := f.p.Store.Read(r.Context(), req.tenant, resourceType, id)
	return f.respondRead(w, r, req, "read", resourceType, id, res, err)
}

func (f *fhirRoutes) vread(w http.ResponseWriter, r *http.Request) error {
	resourceType, id, req, err := f.start(r, true)
	if err != nil {
		return err
	}
	res, err := f.p.Store.VRead(r.Context(), req.tenant, resourceType, id, r.PathValue("vid"))
	return f.respondRead(w, r, req, "read", resourceType, id, res, err)
}

// respondRead decides on a resource that was read and writes it. A missing
// resource is decided on at type level first, so that a subject the policy
// denies learns nothing from a 404.
func (f *fhirRoutes) respondRead(w http.ResponseWriter, r *http.Request, req *request, action, resourceType, id string, res *store.Resource, readErr error) error {
	ctx := r.Context()
	target := policy.Resource{Type: resourceType, ID: id}
	if readErr == nil && !res.Deleted {
		facts := factsOf(res.Body)
		target.Patient, target.SecurityLabels = facts.patient, facts.labels
	}
	decision := f.p.decide(ctx, req, action, target, nil)
	event := auditEvent(req, action, resourceType, id, target.Patient, decision)
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		if err := f.p.record(ctx, event); err != nil {
			return err
		}
		return forbidden(decision)
	}
	if readErr != nil {
		event.Outcome = outcomeCode(readErr)
		if err := f.p.record(ctx, event); err != nil {
			return err
		}
		return readErr
	}

	body, applied, err := f.p.applyObligations(req, decision, res.Body)
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	event.Obligations = applied
	if err := f.p.record(ctx, event); err != nil {
		return err
	}
	setVersionHeaders(w, res)
	return writeFHIR(w, http.StatusOK, body)
}

func (f *fhirRoutes) history(w http.ResponseWriter, r *http.Request) error {
	resourceType, id, req, err := f.start(r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	opts, err := historyOptions(r)
	if err != nil {
		return err
	}
	page, readErr := f.p.Store.History(ctx, req.tenant, resourceType, id, opts)

	target := policy.Resource{Type: resourceType, ID: id}
	if readErr == nil {
		target.Patient = latestPatient(page.Versions)
	}
	decision := f.p.decide(ctx, req, "history", target, nil)
	event := auditEvent(req, "history", resourceType, id, target.Patient, decision)
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return joinAudit(f.p.record(ctx, event), forbidden(decision))
	}
	if readErr != nil {
		event.Outcome = outcomeCode(readErr)
		return joinAudit(f.p.record(ctx, event), readErr)
	}

	base := f.server.baseURL(r)
	entries := make([]bundleEntry, 0, len(page.Versions))
	for _, version := range page.Versions {
		entry, applied, err := f.historyEntry(req, base, decision, version)
		if err != nil {
			event.Outcome = outcomeCode(err)
			return joinAudit(f.p.record(ctx, event), err)
		}
		event.Obligations = append(event.Obligations, applied...)
		entries = append(entries, entry)
	}
	if err := f.p.record(ctx, event); err != nil {
		return err
	}
	return writeFHIR(w, http.StatusOK, marshalBundle("history", -1, pageLinks(base, r, page.Next), entries))
}

func (f *fhirRoutes) historyEntry(req *request, base string, decision policy.Decision, version *store.Resource) (bundleEntry, []audit.Obligation, error) {
	entry := bundleEntry{
		FullURL:  resourceURL(base, version.Type, version.ID),
		Response: &bundleResponse{Status: "200 OK", Etag: version.ETag(), LastModified: fhirInstant(version.LastUpdated)},
		Request:  &bundleRequest{Method: http.MethodPut, URL: version.Type + "/" + version.ID},
	}
	switch {
	case version.Deleted:
		entry.Request.Method = http.MethodDelete
		return entry, nil, nil
	case version.VersionID == "1":
		entry.Request = &bundleRequest{Method: http.MethodPost, URL: version.Type}
		entry.Response.Status = "201 Created"
	}
	body, applied, err := f.p.applyObligations(req, decision, version.Body)
	entry.Resource = body
	return entry, applied, err
}

func latestPatient(versions []*store.Resource) string {
	for _, version := range versions {
		if !version.Deleted {
			return factsOf(version.Body).patient
		}
	}
	return ""
}

func (f *fhirRoutes) create(w http.ResponseWriter, r *http.Request) error {
	resourceType, _, req, err := f.start(r, false)
	if err != nil {
		return err
	}
	body, err := readResource(r, resourceType, "")
	if err != nil {
		return err
	}
	if err := f.validate(r.Context(), resourceType, body); err != nil {
		return err
	}
	return f.write(w, r, req, "create", resourceType, "", body, func(ctx context.Context) (*store.Resource, bool, error) {
		res, err := f.p.Store.Create(ctx, req.tenant, body)
		return res, true, err
	})
}

func (f *fhirRoutes) update(w http.ResponseWriter, r *http.Request) error {
	resourceType, id, req, err := f.start(r, true)
	if err != nil {
		return err
	}
	body, err := readResource(r, resourceType, id)
	if err != nil {
		return err
	}
	if err := f.validate(r.Context(), resourceType, body); err != nil {
		return err
	}
	opts := store.WriteOptions{IfMatch: r.Header.Get("If-Match")}
	return f.write(w, r, req, "update", resourceType, id, body, func(ctx context.Context) (*store.Resource, bool, error) {
		return f.p.Store.Update(ctx, req.tenant, resourceType, id, body, opts)
	})
}

func (f *fhirRoutes) validate(ctx context.Context, resourceType string, body []byte) error {
	if err := f.p.Validator.Validate(ctx, resourceType, body); err != nil {
		f.p.Metrics.ValidationFailed(resourceType)
		return err
	}
	return nil
}

// write decides on a resource to create or update, stores it, audits and
// returns it as stored.
func (f *fhirRoutes) write(w http.ResponseWriter, r *http.Request, req *request, action, resourceType, id string, body []byte, commit func(context.Context) (*store.Resource, bool, error)) error {
	ctx := r.Context()
	facts := factsOf(body)
	target := policy.Resource{Type: resourceType, ID: id, Patient: facts.patient, SecurityLabels: facts.labels}
	decision := f.p.decide(ctx, req, action, target, nil)
	event := auditEvent(req, action, resourceType, id, facts.patient, decision)
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return joinAudit(f.p.record(ctx, event), forbidden(decision))
	}

	res, created, err := commit(ctx)
	if resourceType == "Consent" {
		f.p.consentWritten(req.tenant)
	}
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	event.ResourceID = res.ID
	if resourceType == "Patient" {
		event.Patient = res.ID
	}
	out, applied, err := f.p.applyObligations(req, decision, res.Body)
	event.Obligations = applied
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	if err := f.p.record(ctx, event); err != nil {
		return err
	}

	setVersionHeaders(w, res)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", f.server.baseURL(r)+"/fhir/"+res.Location())
	}
	if preferMinimal(r) {
		w.WriteHeader(status)
		return nil
	}
	return writeFHIR(w, status, out)
}

func (f *fhirRoutes) delete(w http.ResponseWriter, r *http.Request) error {
	resourceType, id, req, err := f.start(r, true)
	if err != nil {
		return err
	}

	// The policy decides on the stored resource's patient and labels.
	ctx := r.Context()
	target := policy.Resource{Type: resourceType, ID: id}
	if current, err := f.p.Store.Read(ctx, req.tenant, resourceType, id); err == nil {
		facts := factsOf(current.Body)
		target.Patient, target.SecurityLabels = facts.patient, facts.labels
	}

	decision := f.p.decide(ctx, req, "delete", target, nil)
	event := auditEvent(req, "delete", resourceType, id, target.Patient, decision)
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return joinAudit(f.p.record(ctx, event), forbidden(decision))
	}

	res, err := f.p.Store.Delete(ctx, req.tenant, resourceType, id, store.WriteOptions{IfMatch: r.Header.Get("If-Match")})
	if resourceType == "Consent" {
		f.p.consentWritten(req.tenant)
	}
	event.Outcome = outcomeCode(err)
	if auditErr := f.p.record(ctx, event); auditErr != nil || err != nil {
		return joinAudit(auditErr, err)
	}
	w.Header().Set("ETag", res.ETag())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// joinAudit returns the audit failure when there is one, because it hides
// the outcome from the client, and err otherwise.
func joinAudit(auditErr, err error) error {
	if auditErr != nil {
		return auditErr
	}
	return err
}

func setVersionHeaders(w http.ResponseWriter, res *store.Resource) {
	w.Header().Set("ETag", res.ETag())
	w.Header().Set("Last-Modified", res.LastUpdated.UTC().Format(http.TimeFormat))
}

func preferMinimal(r *http.Request) bool {
	for _, value := range r.Header.Values("Prefer") {
		if strings.Contains(strings.ReplaceAll(value, " ", ""), "return=minimal") {
			return true
		}
	}
	return false
}

// writeFHIR writes a FHIR JSON body with status.
func writeFHIR(w http.ResponseWriter, status int, body []byte) error {
	w.Header().Set("Content-Type", ContentTypeFHIR+"; charset=utf-8")
	w.Header().Set("Content-Length", itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func historyOptions(r *http.Request) (store.HistoryOptions, error) {
	query := r.URL.Query()
	opts := store.HistoryOptions{Cursor: query.Get("_cursor")}
	if count := query.Get("_count"); count != "" {
		n, err := atoi(count)
		if err != nil || n < 1 {
			return opts, issueAt(sdk.CodeInvalid, "", "_count", "_count %q must be a positive whole number", truncate(count, 20))
		}
		opts.Count = n
	}
	if since := query.Get("_since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return opts, issueAt(sdk.CodeInvalid, "", "_since", "_since %q must be an instant such as 2026-01-31T12:00:00Z", truncate(since, 40))
		}
		opts.Since = t
	}
	return opts, nil
}
