package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
)

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) (int, error) { return strconv.Atoi(s) }

// searchPatient returns the patient a search is confined to by its
// patient or subject parameter, as a reference, or "".
func searchPatient(resourceType string, query url.Values) string {
	if resourceType == "Patient" {
		if id := query.Get("_id"); id != "" && !strings.Contains(id, ",") {
			return "Patient/" + id
		}
		return ""
	}
	for _, name := range []string{"patient", "subject"} {
		value := query.Get(name)
		if value == "" || strings.Contains(value, ",") {
			continue
		}
		if strings.HasPrefix(value, "Patient/") {
			return value
		}
		if !strings.Contains(value, "/") {
			return "Patient/" + value
		}
	}
	return ""
}

// search decides at type level (with the patient the search names, if
// any), runs the search, and then decides on each result with its own
// patient, labels and consents, leaving out the results the policy denies.
func (f *fhirRoutes) search(w http.ResponseWriter, r *http.Request) error {
	resourceType, _, req, err := f.start(r, false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	query := r.URL.Query()
	patient := searchPatient(resourceType, query)
	decision := f.p.decide(ctx, req, "search", policy.Resource{Type: resourceType, Patient: patient}, nil)
	event := auditEvent(req, "search", resourceType, "", patient, decision)
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return joinAudit(f.p.record(ctx, event), forbidden(decision))
	}

	page, err := f.p.Store.Search(ctx, req.tenant, resourceType, query)
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	base := f.server.baseURL(r)
	result, err := f.searchEntries(ctx, req, base, resourceType, patient, decision, page.Resources)
	event.Obligations = result.applied
	if result.withheld > 0 {
		event.Reasons = append(event.Reasons, "hub.results_withheld:"+strconv.Itoa(result.withheld))
	}
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	// Each patient among the results gets an event of its own, so that
	// the patient's accounting of disclosures lists the search.
	events := []audit.Event{event}
	for _, d := range result.disclosed {
		disclosure := auditEvent(req, "search", resourceType, d.resourceID, d.patient, d.decision)
		disclosure.Reasons = append(disclosure.Reasons, "hub.search_result")
		events = append(events, disclosure)
	}
	if err := f.p.recordAll(ctx, events); err != nil {
		return err
	}
	return writeFHIR(w, http.StatusOK, marshalBundle("searchset", -1, pageLinks(base, r, page.Next), result.entries))
}

// searchResult is a search page as the client gets it.
type searchResult struct {
	entries  []bundleEntry
	applied  []audit.Obligation
	withheld int
	// disclosed lists the patients of the returned results other than the
	// one the search is confined to, once each, with the first result of
	// each and its decision.
	disclosed []disclosure
}

type disclosure struct {
	patient    string
	resourceID string
	decision   policy.Decision
}

func (f *fhirRoutes) searchEntries(ctx context.Context, req *request, base, resourceType, patient string, typeDecision policy.Decision, resources []*store.Resource) (searchResult, error) {
	out := searchResult{entries: make([]bundleEntry, 0, len(resources))}
	if err := f.p.prefetchConsents(ctx, req.tenant, resources, patient); err != nil {
		return out, err
	}
	seen := map[string]bool{}
	for _, res := range resources {
		decision := typeDecision
		facts := factsOf(res.Body)
		if facts.patient != patient || len(facts.labels) > 0 {
			target := policy.Resource{Type: resourceType, ID: res.ID, Patient: facts.patient, SecurityLabels: facts.labels}
			decision = f.p.decide(ctx, req, "read", target, nil)
		}
		if !decision.Allow {
			out.withheld++
			continue
		}
		body, changes, err := f.p.applyObligations(req, decision, res.Body)
		if err != nil {
			return out, err
		}
		out.applied = append(out.applied, changes...)
		out.entries = append(out.entries, bundleEntry{FullURL: resourceURL(base, res.Type, res.ID), Resource: body, SearchMode: "match"})
		if facts.patient != "" && facts.patient != patient && !seen[facts.patient] {
			seen[facts.patient] = true
			out.disclosed = append(out.disclosed, disclosure{patient: facts.patient, resourceID: res.ID, decision: decision})
		}
	}
	return out, nil
}
