package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// maxPushResources bounds the resources of one EHR push.
const maxPushResources = 1000

// maxImportResources bounds the resources of one EHR import, so that a
// server whose paging never ends cannot fill the hub.
const maxImportResources = 10_000

// ehrImportOp is an EHR import as its job keeps it.
type ehrImportOp struct {
	Connector string `json:"connector"`
	// Patient is the patient's id in the external system.
	Patient string `json:"patient"`
}

// ehrPushOp is an EHR push as its job keeps it.
type ehrPushOp struct {
	Connector string   `json:"connector"`
	Resources []string `json:"resources"`
}

var (
	externalID        = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	resourceReference = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$`)
)

// ehrImport serves POST /v1/ehr/{connector}/import with
// {"patient": "<id in the external system>"}: a job reads the Patient and
// its resources from the connector and stores them in the hub.
func (o *operationRoutes) ehrImport(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	var op ehrImportOp
	if err := o.p.decodeRequest(r.Context(), r, "", &op); err != nil {
		return err
	}
	op.Connector = r.PathValue("connector")
	if !externalID.MatchString(op.Patient) {
		return issueAt(sdk.CodeInvalid, "/patient", "patient", "import: patient must be the patient's id in the external system, such as \"123\"")
	}
	if err := o.checkConnector(r.Context(), req, op.Connector, "search", policy.Resource{Type: "Patient"}); err != nil {
		return err
	}
	job, err := o.p.enqueue(r.Context(), req, JobEHRImport, op)
	if err != nil {
		return err
	}
	return o.accepted(w, r, job)
}

// ehrPush serves POST /v1/ehr/{connector}/push with {"resources":
// ["Observation/1", ...]}: a job creates each hub resource in the external
// system, cleaned under the egress decision for it.
func (o *operationRoutes) ehrPush(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	var op ehrPushOp
	if err := o.p.decodeRequest(r.Context(), r, "", &op); err != nil {
		return err
	}
	op.Connector = r.PathValue("connector")
	if len(op.Resources) == 0 || len(op.Resources) > maxPushResources {
		return issueAt(sdk.CodeInvalid, "/resources", "resources", "push: resources must list 1 to %d references such as Observation/123", maxPushResources)
	}
	for i, reference := range op.Resources {
		if !resourceReference.MatchString(reference) {
			return issueAt(sdk.CodeInvalid, "/resources/"+strconv.Itoa(i), "resources["+strconv.Itoa(i)+"]", "push: %q is not a reference such as Observation/123", truncate(reference, 80))
		}
	}
	if err := o.checkConnector(r.Context(), req, op.Connector, "export", policy.Resource{Type: strings.Split(op.Resources[0], "/")[0]}); err != nil {
		return err
	}
	job, err := o.p.enqueue(r.Context(), req, JobEHRPush, op)
	if err != nil {
		return err
	}
	return o.accepted(w, r, job)
}

// checkConnector fails a request at once when the connector is unknown or
// the policy denies the action, instead of failing its job later.
func (o *operationRoutes) checkConnector(ctx context.Context, req *request, connector, action string, res policy.Resource) error {
	provider, err := o.p.pickProvider(sdk.KindEHR, connector, "", "")
	if err != nil {
		return err
	}
	_, err = o.p.beginCall(ctx, req, action, sdk.KindEHR, provider, res)
	return err
}

// ehrImportJob reads the patient's record from the connector and stores
// it in the hub in one transaction.
func (p *Pipeline) ehrImportJob(ctx context.Context, req *request, raw json.RawMessage, progress func(jobOutput) error) (jobOutput, error) {
	var op ehrImportOp
	if err := json.Unmarshal(raw, &op); err != nil {
		return jobOutput{}, err
	}
	provider, err := p.pickProvider(sdk.KindEHR, op.Connector, "", "")
	if err != nil {
		return jobOutput{}, err
	}
	call, err := p.beginCall(ctx, req, "search", sdk.KindEHR, provider, policy.Resource{Type: "Patient"})
	if err != nil {
		return jobOutput{}, err
	}
	resources, requests, fetchErr := p.fetchRecord(ctx, provider.EHR, op.Patient, progress)
	sent, _ := json.Marshal(requests)
	if _, err := call.finish(ctx, "", jsonDigest(sent), fetchErr); err != nil {
		return jobOutput{}, err
	}

	bodies, failed := p.importable(ctx, resources)
	output := jobOutput{Total: len(resources), Failed: failed}
	if len(bodies) == 0 {
		return output, sdk.Errorf(sdk.CodeProcessing, "import: none of the %d resources read from %s is valid", len(resources), op.Connector).WithSource(sdk.SourceUpstream)
	}
	stored, err := p.storeTransaction(ctx, req, bodies)
	if err != nil {
		return output, err
	}
	for _, body := range stored {
		output.Resources = append(output.Resources, referenceOf(body))
	}
	output.Done = len(stored)
	return output, nil
}

// ehrRequest is one request an import sent, for the payload hash.
type ehrRequest struct {
	Operation    string `json:"operation"`
	ResourceType string `json:"resource_type,omitempty"`
	ID           string `json:"id,omitempty"`
	Params       string `json:"params,omitempty"`
	PageToken    bool   `json:"page_token,omitempty"`
}

// fetchRecord reads the Patient and searches each configured type for its
// resources, following every page.
func (p *Pipeline) fetchRecord(ctx context.Context, ehr sdk.EHRConnector, patient string, progress func(jobOutput) error) ([]json.RawMessage, []ehrRequest, error) {
	requests := []ehrRequest{{Operation: "read", ResourceType: "Patient", ID: patient}}
	record, err := ehr.Read(ctx, "Patient", patient)
	if err != nil {
		return nil, requests, fmt.Errorf("import: read Patient/%s: %w", patient, err)
	}
	resources := []json.RawMessage{record}
	pageSize := strconv.Itoa(orInt(p.Operations.EHRPageSize, DefaultEHRPageSize))
	for _, resourceType := range p.Operations.ehrImportTypes() {
		search := sdk.SearchRequest{ResourceType: resourceType, Params: url.Values{"patient": {patient}, "_count": {pageSize}}}
		requests = append(requests, ehrRequest{Operation: "search", ResourceType: resourceType, Params: search.Params.Encode()})
		for {
			page, err := ehr.Search(ctx, search)
			if err != nil {
				return nil, requests, fmt.Errorf("import: search %s: %w", resourceType, err)
			}
			resources = append(resources, page.Resources...)
			if len(resources) > maxImportResources {
				return nil, requests, sdk.Errorf(sdk.CodeTooLong, "import: the record has more than %d resources", maxImportResources)
			}
			if err := progress(jobOutput{Total: len(resources)}); err != nil {
				return nil, requests, err
			}
			if page.Next == "" {
				break
			}
			search = sdk.SearchRequest{PageToken: page.Next}
			requests = append(requests, ehrRequest{Operation: "search", PageToken: true})
		}
	}
	return resources, requests, nil
}

// importable prepares the resources read from the external system for a
// transaction: each gets a urn:uuid fullUrl in place of its id, and
// references among them follow. Resources that fail validation are left
// out and counted.
func (p *Pipeline) importable(ctx context.Context, resources []json.RawMessage) ([][]byte, int) {
	urns := map[string]string{}
	for _, raw := range resources {
		if ref := referenceOf(raw); ref != "/" && urns[ref] == "" {
			urns[ref] = uuid.NewString()
		}
	}
	var out [][]byte
	failed := 0
	for _, raw := range resources {
		body, err := rewriteImported(raw, urns)
		if err == nil {
			err = p.Validator.Validate(ctx, resourceTypeOf(body), body)
		}
		if err != nil {
			failed++
			continue
		}
		out = append(out, body)
	}
	return out, failed
}

// rewriteImported sets the resource's id to its urn's uuid, drops its
// meta, and points every reference to an imported resource at its urn.
func rewriteImported(raw json.RawMessage, urns map[string]string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	own := urns[referenceOf(raw)]
	delete(doc, "meta")
	doc["id"] = own
	var walk func(v any)
	walk = func(v any) {
		switch node := v.(type) {
		case map[string]any:
			for key, child := range node {
				if text, ok := child.(string); ok && key == "reference" {
					if urn, found := urns[text]; found {
						node[key] = "urn:uuid:" + urn
					}
					continue
				}
				walk(child)
			}
		case []any:
			for _, child := range node {
				walk(child)
			}
		}
	}
	walk(doc)
	return json.Marshal(doc)
}

func resourceTypeOf(body []byte) string {
	return strings.Split(referenceOf(body), "/")[0]
}

// ehrPushJob creates each hub resource in the external system. Each
// resource is decided on its own (action export with the connector's data
// use) and cleaned under its decision, and each call is audited with the
// hash of the JSON sent.
func (p *Pipeline) ehrPushJob(ctx context.Context, req *request, raw json.RawMessage, progress func(jobOutput) error) (jobOutput, error) {
	var op ehrPushOp
	if err := json.Unmarshal(raw, &op); err != nil {
		return jobOutput{}, err
	}
	provider, err := p.pickProvider(sdk.KindEHR, op.Connector, "", "")
	if err != nil {
		return jobOutput{}, err
	}
	output := jobOutput{Total: len(op.Resources)}
	var failures []error
	for _, reference := range op.Resources {
		created, err := p.pushResource(ctx, req, provider, reference)
		if err != nil {
			output.Failed++
			failures = append(failures, err)
		} else {
			output.Done++
			output.Resources = append(output.Resources, reference)
			output.External = append(output.External, created)
		}
		if err := progress(output); err != nil {
			return output, err
		}
	}
	if len(failures) > 0 {
		return output, pushFailure(failures, len(op.Resources))
	}
	return output, nil
}

// pushFailure joins the failures of a push into one outcome. A push with
// any failure that a retry may fix is retried as a whole. The resources
// the failed attempt created are then created again, because FHIR create
// is not idempotent.
func pushFailure(failures []error, total int) error {
	outcome := &sdk.Outcome{}
	for _, err := range failures {
		outcome.Issues = append(outcome.Issues, sdk.AsOutcome(err).Issues...)
	}
	outcome.Issues = append([]sdk.Issue{{Severity: sdk.SeverityError, Code: firstError(sdk.AsOutcome(failures[0])).Code,
		Diagnostics: fmt.Sprintf("push: %d of %d resources failed", len(failures), total), Source: sdk.SourceHub}}, outcome.Issues...)
	return outcome
}

// pushResource sends one hub resource to the connector under the egress
// decision and returns the reference the external system gave it.
func (p *Pipeline) pushResource(ctx context.Context, req *request, provider sdk.Provider, reference string) (string, error) {
	resourceType, id, _ := strings.Cut(reference, "/")
	res, err := p.Store.Read(ctx, req.tenant, resourceType, id)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", reference, err)
	}
	facts := factsOf(res.Body)
	target := policy.Resource{Type: resourceType, ID: id, Patient: facts.patient, SecurityLabels: facts.labels}
	call, err := p.beginCall(ctx, req, "export", sdk.KindEHR, provider, target)
	if err != nil {
		return "", err
	}
	payload, err := call.applyJSON("", withoutServerFields(res.Body))
	if err != nil {
		_, auditErr := call.finish(ctx, "", "", err)
		return "", auditErr
	}
	created, callErr := provider.EHR.Create(ctx, payload)
	if _, err := call.finish(ctx, "", jsonDigest(payload), callErr); err != nil {
		return "", err
	}
	return referenceOf(created), nil
}

// withoutServerFields drops the id and meta the hub assigned, which the
// external system assigns anew.
func withoutServerFields(body []byte) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	delete(doc, "id")
	delete(doc, "meta")
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}
