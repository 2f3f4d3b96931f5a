package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
)

// bundleEntryJSON is the part of a request Bundle entry the policy needs.
type bundleEntryJSON struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Request  *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request,omitempty"`
}

// entryTarget is the action and resource of one entry of a transaction or
// batch.
type entryTarget struct {
	action   string
	resource policy.Resource
}

// bundle runs a transaction or batch Bundle. The policy decides on every
// entry before the store receives the Bundle. A transaction with a denied
// entry is rejected whole (403), and a batch runs without its denied
// entries, which get a 403 result in place.
func (f *fhirRoutes) bundle(w http.ResponseWriter, r *http.Request) error {
	req, err := f.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	body, err := readResource(r, "Bundle", "")
	if err != nil {
		return err
	}
	var doc struct {
		Type  string            `json:"type"`
		Entry []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return syntaxOutcome(body, err)
	}
	if doc.Type != "transaction" && doc.Type != "batch" {
		return issueAt(sdk.CodeInvalid, "/type", "Bundle.type", "POST /fhir takes a transaction or batch Bundle, not %q", truncate(doc.Type, 40))
	}
	targets, err := entryTargets(doc.Entry)
	if err != nil {
		return err
	}

	// A transaction is valid as a whole or not at all. The entries of a
	// batch stand alone, so an invalid one gets its 400 in place and the
	// others still run.
	if doc.Type == "transaction" {
		if err := f.validate(ctx, "Bundle", body); err != nil {
			return err
		}
		return f.transaction(w, r, req, body, targets, f.decideEntries(ctx, req, targets, nil))
	}
	invalid := f.validateEntries(ctx, doc.Entry)
	return f.batch(w, r, req, doc.Entry, targets, f.decideEntries(ctx, req, targets, invalid), invalid)
}

// validateEntries validates the resource of each batch entry on its own
// and returns the outcome of every invalid entry, by index, with paths
// inside the Bundle.
func (f *fhirRoutes) validateEntries(ctx context.Context, entries []json.RawMessage) map[int]*sdk.Outcome {
	invalid := map[int]*sdk.Outcome{}
	for i, raw := range entries {
		var entry bundleEntryJSON
		if json.Unmarshal(raw, &entry) != nil || entry.Resource == nil {
			continue
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		_ = json.Unmarshal(entry.Resource, &head)
		err := f.validate(ctx, head.ResourceType, entry.Resource)
		if err == nil {
			continue
		}
		outcome := sdk.AsOutcome(err)
		issues := make([]sdk.Issue, len(outcome.Issues))
		for k, issue := range outcome.Issues {
			issue.Path = fmt.Sprintf("/entry/%d/resource%s", i, issue.Path)
			if issue.Expression != "" {
				issue.Expression = fmt.Sprintf("Bundle.entry[%d].resource.%s", i, strings.TrimPrefix(issue.Expression, head.ResourceType+"."))
			}
			issues[k] = issue
		}
		invalid[i] = sdk.NewOutcome(issues...)
	}
	return invalid
}

func entryTargets(entries []json.RawMessage) ([]entryTarget, error) {
	targets := make([]entryTarget, len(entries))
	for i, raw := range entries {
		var entry bundleEntryJSON
		if err := json.Unmarshal(raw, &entry); err != nil || entry.Request == nil {
			return nil, issueAt(sdk.CodeRequired, fmt.Sprintf("/entry/%d/request", i), fmt.Sprintf("Bundle.entry[%d].request", i), "entry %d has no request: add request.method and request.url", i)
		}
		target, err := targetOf(entry)
		if err != nil {
			return nil, issueAt(sdk.CodeInvalid, fmt.Sprintf("/entry/%d/request", i), fmt.Sprintf("Bundle.entry[%d].request", i), "entry %d: %v", i, err)
		}
		targets[i] = target
	}
	return targets, nil
}

func targetOf(entry bundleEntryJSON) (entryTarget, error) {
	method := strings.ToUpper(entry.Request.Method)
	path, rawQuery, _ := strings.Cut(entry.Request.URL, "?")
	resourceType, id, _ := strings.Cut(path, "/")
	target := entryTarget{resource: policy.Resource{Type: resourceType, ID: id}}
	if entry.Resource != nil {
		facts := factsOf(entry.Resource)
		target.resource.Patient, target.resource.SecurityLabels = facts.patient, facts.labels
	}
	switch method {
	case http.MethodPost:
		target.action = "create"
		target.resource.ID = ""
	case http.MethodPut:
		target.action = "update"
	case http.MethodDelete:
		target.action = "delete"
	case http.MethodGet:
		target.action = "read"
		if id == "" {
			target.action = "search"
			query, _ := url.ParseQuery(rawQuery)
			target.resource.Patient = searchPatient(resourceType, query)
		}
	default:
		return target, fmt.Errorf("method %q is not supported: use POST, PUT, DELETE or GET", entry.Request.Method)
	}
	if !resourceTypePattern.MatchString(resourceType) {
		return target, fmt.Errorf("url %q does not start with a resource type", truncate(entry.Request.URL, 80))
	}
	return target, nil
}

// decideEntries decides on every entry that is not invalid; entries with
// the same action and resource facts share one decision.
func (f *fhirRoutes) decideEntries(ctx context.Context, req *request, targets []entryTarget, invalid map[int]*sdk.Outcome) []policy.Decision {
	decisions := make([]policy.Decision, len(targets))
	cache := map[string]policy.Decision{}
	for i, target := range targets {
		if invalid[i] != nil {
			continue
		}
		key := decisionKey(target)
		if decision, ok := cache[key]; ok {
			decisions[i] = decision
			continue
		}
		decisions[i] = f.p.decide(ctx, req, target.action, target.resource, nil)
		cache[key] = decisions[i]
	}
	return decisions
}

// decisionKey identifies the inputs a decision depends on. Entries whose
// key is equal get the same decision from the same policy.
func decisionKey(target entryTarget) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s", target.action, target.resource.Type, target.resource.ID, target.resource.Patient)
	for _, label := range target.resource.SecurityLabels {
		fmt.Fprintf(&b, "|%s#%s", label.System, label.Code)
	}
	return b.String()
}

func deniedEntries(decisions []policy.Decision) []int {
	var denied []int
	for i, decision := range decisions {
		if !decision.Allow {
			denied = append(denied, i)
		}
	}
	return denied
}

func (f *fhirRoutes) transaction(w http.ResponseWriter, r *http.Request, req *request, body []byte, targets []entryTarget, decisions []policy.Decision) error {
	ctx := r.Context()
	if denied := deniedEntries(decisions); len(denied) > 0 {
		events := make([]audit.Event, 0, len(denied))
		issues := make([]sdk.Issue, 0, len(denied))
		for _, i := range denied {
			event := auditEvent(req, targets[i].action, targets[i].resource.Type, targets[i].resource.ID, targets[i].resource.Patient, decisions[i])
			event.Outcome = string(sdk.CodeForbidden)
			events = append(events, event)
			for _, issue := range forbidden(decisions[i]).(*sdk.Outcome).Issues {
				issue.Path = fmt.Sprintf("/entry/%d", i)
				issue.Expression = fmt.Sprintf("Bundle.entry[%d]", i)
				issues = append(issues, issue)
			}
		}
		return joinAudit(f.p.recordAll(ctx, events), sdk.NewOutcome(issues...))
	}

	response, err := f.p.Store.ProcessBundle(ctx, req.tenant, body)
	if writesConsent(targets) {
		f.p.consentWritten(req.tenant)
	}
	if err != nil {
		// Every entry was allowed, so the transaction's event records the
		// allow; an empty Bundle has no decision to name.
		decision := policy.Decision{Allow: true}
		if len(decisions) > 0 {
			decision = decisions[0]
		}
		event := auditEvent(req, "transaction", "Bundle", "", "", decision)
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	return f.finishBundle(w, r, req, response, targets, decisions, nil)
}

func (f *fhirRoutes) batch(w http.ResponseWriter, r *http.Request, req *request, entries []json.RawMessage, targets []entryTarget, decisions []policy.Decision, invalid map[int]*sdk.Outcome) error {
	ctx := r.Context()
	allowed := make([]json.RawMessage, 0, len(entries))
	for i, entry := range entries {
		if decisions[i].Allow && invalid[i] == nil {
			allowed = append(allowed, entry)
		}
	}

	var response *store.BundleResponse
	if len(allowed) > 0 {
		body, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": allowed})
		if err != nil {
			return err
		}
		response, err = f.p.Store.ProcessBundle(ctx, req.tenant, body)
		if writesConsent(targets) {
			f.p.consentWritten(req.tenant)
		}
		if err != nil {
			return err
		}
	} else {
		response = &store.BundleResponse{Type: "batch-response"}
	}
	return f.finishBundle(w, r, req, response, targets, decisions, invalid)
}

// reindexOutcome moves the issues of an entry outcome from the entry's
// position among the entries the store processed (from) to its position
// in the client's Bundle (to), which differ once invalid or denied entries
// were left out.
func reindexOutcome(o *sdk.Outcome, from, to int) *sdk.Outcome {
	if o == nil || from == to {
		return o
	}
	fromPath, toPath := fmt.Sprintf("/entry/%d", from), fmt.Sprintf("/entry/%d", to)
	fromExpr, toExpr := fmt.Sprintf("Bundle.entry[%d]", from), fmt.Sprintf("Bundle.entry[%d]", to)
	fromText, toText := fmt.Sprintf("entry %d: ", from), fmt.Sprintf("entry %d: ", to)
	out := &sdk.Outcome{Issues: make([]sdk.Issue, len(o.Issues))}
	for k, issue := range o.Issues {
		if rest, ok := strings.CutPrefix(issue.Path, fromPath); ok && (rest == "" || rest[0] == '/') {
			issue.Path = toPath + rest
		}
		if rest, ok := strings.CutPrefix(issue.Expression, fromExpr); ok {
			issue.Expression = toExpr + rest
		}
		if rest, ok := strings.CutPrefix(issue.Diagnostics, fromText); ok {
			issue.Diagnostics = toText + rest
		}
		out.Issues[k] = issue
	}
	return out
}

// finishBundle merges the invalid and denied entries of a batch back in
// their places, applies each entry's obligations, audits every entry that
// reached the policy and writes the response Bundle.
func (f *fhirRoutes) finishBundle(w http.ResponseWriter, r *http.Request, req *request, response *store.BundleResponse, targets []entryTarget, decisions []policy.Decision, invalid map[int]*sdk.Outcome) error {
	ctx := r.Context()
	results := make([]store.EntryResponse, len(targets))
	next := 0
	for i := range targets {
		if invalid[i] != nil {
			results[i] = store.EntryResponse{Status: "400 Bad Request", Outcome: invalid[i]}
			continue
		}
		if !decisions[i].Allow {
			results[i] = store.EntryResponse{Status: "403 Forbidden", Outcome: forbidden(decisions[i]).(*sdk.Outcome)}
			continue
		}
		if next < len(response.Entries) {
			results[i] = response.Entries[next]
			results[i].Outcome = reindexOutcome(results[i].Outcome, next, i)
			next++
		}
	}

	events := make([]audit.Event, 0, len(targets))
	for i, target := range targets {
		if invalid[i] != nil {
			// The entry never reached the policy or the store.
			continue
		}
		event := auditEvent(req, target.action, target.resource.Type, target.resource.ID, target.resource.Patient, decisions[i])
		result := &results[i]
		if result.Resource != nil {
			event.ResourceID = result.Resource.ID
			switch {
			case target.resource.Type == "Patient":
				// The store assigned the id; the body's id was the client's.
				event.Patient = result.Resource.ID
			case event.Patient == "":
				event.Patient = strings.TrimPrefix(factsOf(result.Resource.Body).patient, "Patient/")
			}
		}
		switch {
		case !decisions[i].Allow:
			event.Outcome = string(sdk.CodeForbidden)
		case result.Outcome != nil:
			event.Outcome = string(firstError(result.Outcome).Code)
		}
		if result.Resource != nil && !result.Resource.Deleted && decisions[i].Allow {
			body, applied, err := f.p.applyObligations(req, decisions[i], result.Resource.Body)
			if err != nil {
				return joinAudit(f.p.recordAll(ctx, events), err)
			}
			copied := *result.Resource
			copied.Body = body
			result.Resource = &copied
			event.Obligations = applied
		}
		events = append(events, event)
	}
	if err := f.p.recordAll(ctx, events); err != nil {
		return err
	}
	response.Entries = results
	data, err := response.MarshalJSON()
	if err != nil {
		return err
	}
	return writeFHIR(w, http.StatusOK, data)
}

// auditConcurrency bounds the appends in flight for one Bundle. Appends
// that wait together are committed together by the audit log.
const auditConcurrency = 64

// recordAll appends events concurrently, so that they share commits, and
// fails when any append fails.
func (p *Pipeline) recordAll(ctx context.Context, events []audit.Event) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	slots := make(chan struct{}, auditConcurrency)
	for _, event := range events {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := p.record(ctx, event); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// writesConsent reports whether a Bundle changes Consent resources.
func writesConsent(targets []entryTarget) bool {
	for _, target := range targets {
		if target.resource.Type == "Consent" && target.action != "read" && target.action != "search" {
			return true
		}
	}
	return false
}
