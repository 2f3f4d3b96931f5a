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
	entries, applied, withheld, err := f.searchEntries(ctx, req, base, resourceType, patient, decision, page.Resources)
	event.Obligations = applied
	if withheld > 0 {
		event.Reasons = append(event.Reasons, "hub.results_withheld:"+strconv.Itoa(withheld))
	}
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(f.p.record(ctx, event), err)
	}
	if err := f.p.record(ctx, event); err != nil {
		return err
	}
	return writeFHIR(w, http.StatusOK, marshalBundle("searchset", -1, pageLinks(base, r, page.Next), entries))
}

func (f *fhirRoutes) searchEntries(ctx context.Context, req *request, base, resourceType, patient string, typeDecision policy.Decision, resources []*store.Resource) ([]bundleEntry, []audit.Obligation, int, error) {
	entries := make([]bundleEntry, 0, len(resources))
	var applied []audit.Obligation
	withheld := 0
	if err := f.p.prefetchConsents(ctx, req.tenant, resources, patient); err != nil {
		return nil, nil, 0, err
	}
	for _, res := range resources {
		decision := typeDecision
		facts := factsOf(res.Body)
		if facts.patient != patient || len(facts.labels) > 0 {
			target := policy.Resource{Type: resourceType, ID: res.ID, Patient: facts.patient, SecurityLabels: facts.labels}
			decision = f.p.decide(ctx, req, "read", target, nil)
		}
		if !decision.Allow {
			withheld++
			continue
		}
		body, changes, err := f.p.applyObligations(req, decision, res.Body)
		if err != nil {
			return nil, applied, withheld, err
		}
		applied = append(applied, changes...)
		entries = append(entries, bundleEntry{FullURL: resourceURL(base, res.Type, res.ID), Resource: body, SearchMode: "match"})
	}
	return entries, applied, withheld, nil
}
