package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/sdk"
)

// sourceBlobExtension names, on an ImagingStudy, the blob that holds the
// DICOM object the study was read from.
const sourceBlobExtension = "https://healthhub.dev/fhir/StructureDefinition/source-blob"

// maxImagingObject bounds an object held in memory for de-identification.
const maxImagingObject = 512 << 20

// studyResult is the response of POST /v1/imaging/studies.
type studyResult struct {
	ImagingStudy json.RawMessage `json:"imaging_study"`
	// Blob is the id of the stored DICOM object.
	Blob string `json:"blob"`
	// PreviewURL serves the PNG preview of the first frame, when there is
	// one.
	PreviewURL string `json:"preview_url,omitempty"`
	AuditID    string `json:"audit_id"`
}

// analysisBody is an imaging analysis request, as
// schemas/hub/imaging-analysis-request.schema.json describes it.
type analysisBody struct {
	Provider     string            `json:"provider,omitempty"`
	Blob         string            `json:"blob,omitempty"`
	ImagingStudy string            `json:"imaging_study,omitempty"`
	Model        string            `json:"model,omitempty"`
	Patient      string            `json:"patient,omitempty"`
	Parameters   map[string]string `json:"parameters,omitempty"`
}

// analysisResult is the response of POST /v1/imaging/analyses.
type analysisResult struct {
	DiagnosticReport json.RawMessage   `json:"diagnostic_report"`
	Observations     []json.RawMessage `json:"observations"`
	AuditID          string            `json:"audit_id"`
}

// imagingObject is an object on its way to an imaging provider.
type imagingObject struct {
	blob        string
	contentType string
	patient     string
}

// readStudy serves POST /v1/imaging/studies: a DICOM object, as the body
// (with ?patient=Patient/ID) or as the part "file" of a multipart upload,
// is stored as a blob, read by a provider with the study capability, and
// its ImagingStudy stored and returned with a preview.
func (o *operationRoutes) readStudy(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	fields, blob, err := o.p.readImagingUpload(ctx, r, req)
	if err != nil {
		return err
	}
	patient, _ := fields["patient"].(string)
	if !patientReference.MatchString(patient) {
		return issueAt(sdk.CodeRequired, "/patient", "patient", "read study: patient must be a reference such as Patient/123, the subject of the ImagingStudy")
	}
	requested, _ := fields["provider"].(string)
	provider, err := o.p.pickProvider(sdk.KindImaging, requested, o.p.Operations.Study, sdk.CapabilityStudy)
	if err != nil {
		return err
	}
	reader, ok := provider.ImageAnalyzer.(sdk.StudyReader)
	if !ok {
		return hubError(sdk.CodeNotSupported, "provider %q declares the study capability but does not read studies: fix the plugin", provider.Info.Name)
	}
	call, err := o.p.beginCall(ctx, req, "analyze", sdk.KindImaging, provider, policy.Resource{Type: "ImagingStudy", Patient: patient})
	if err != nil {
		return err
	}

	object := imagingObject{blob: blob, contentType: "application/dicom", patient: patient}
	var study *sdk.Study
	hash, callErr := o.p.sendImage(ctx, call, object, "", nil, func(ctx context.Context, request sdk.ImagingRequest) (string, error) {
		var err error
		study, err = reader.ReadStudy(ctx, request)
		return "", err
	})
	auditID, err := call.finish(ctx, "", hash, callErr)
	if err != nil {
		return err
	}
	result, err := o.p.storeStudy(ctx, call, object, study)
	if err != nil {
		return err
	}
	result.AuditID = auditID
	if result.PreviewURL != "" {
		result.PreviewURL = o.server.baseURL(r) + result.PreviewURL
	}
	return writeJSON(w, http.StatusCreated, result)
}

// readImagingUpload reads a DICOM body or a multipart upload and stores
// the object as a blob.
func (p *Pipeline) readImagingUpload(ctx context.Context, r *http.Request, req *request) (map[string]any, string, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		fields, blob, err := p.readUpload(ctx, r, req, "application/dicom")
		if err == nil && blob == "" {
			err = issueAt(sdk.CodeRequired, "/file", "file", "read study: the upload has no part named \"file\": add the DICOM object as that part")
		}
		return fields, blob, err
	}
	query := r.URL.Query()
	fields := map[string]any{"patient": query.Get("patient"), "provider": query.Get("provider")}
	blob, _, err := p.storeBlob(ctx, req, r.Body, "application/dicom", r.ContentLength)
	return fields, blob, err
}

// storeStudy stores the study's preview as a blob and the ImagingStudy,
// with the real patient as its subject and the DICOM blob named in an
// extension.
func (p *Pipeline) storeStudy(ctx context.Context, call *providerCall, object imagingObject, study *sdk.Study) (*studyResult, error) {
	var doc map[string]any
	if err := json.Unmarshal(call.restoreReferences(study.ImagingStudy), &doc); err != nil {
		return nil, sdk.Errorf(sdk.CodeStructure, "read study: the provider's ImagingStudy is not a JSON object: %v", err).WithSource(sdk.SourcePlugin)
	}
	delete(doc, "id")
	doc["subject"] = map[string]any{"reference": object.patient}
	extensions, _ := doc["extension"].([]any)
	doc["extension"] = append(extensions, map[string]any{"url": sourceBlobExtension, "valueString": object.blob})
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	result := &studyResult{Blob: object.blob}
	if len(study.Preview) > 0 {
		preview, _, err := p.storeBlob(ctx, call.req, bytes.NewReader(study.Preview), "image/png", int64(len(study.Preview)))
		if err != nil {
			return nil, err
		}
		result.PreviewURL = "/v1/blobs/" + preview
	}
	if result.ImagingStudy, err = p.storeResource(ctx, call.req, body); err != nil {
		return nil, err
	}
	return result, nil
}

// analyze serves POST /v1/imaging/analyses. The image is a stored blob,
// the DICOM object of a stored ImagingStudy, or the part "file" of a
// multipart upload. It goes to an imaging provider under the egress
// decision, and the provider's DiagnosticReport and Observations are
// validated, stored and returned.
func (o *operationRoutes) analyze(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	body, err := o.readAnalysis(ctx, w, r, req)
	if err != nil {
		return err
	}
	object, err := o.p.resolveImage(ctx, req, body)
	if err != nil {
		return err
	}
	provider, err := o.p.pickProvider(sdk.KindImaging, body.Provider, o.p.Operations.Imaging, "")
	if err != nil {
		return err
	}
	call, err := o.p.beginCall(ctx, req, "analyze", sdk.KindImaging, provider, policy.Resource{Type: "DiagnosticReport", Patient: object.patient})
	if err != nil {
		return err
	}

	var result *sdk.ImagingResult
	hash, callErr := o.p.sendImage(ctx, call, object, body.Model, body.Parameters, func(ctx context.Context, request sdk.ImagingRequest) (string, error) {
		var err error
		result, err = provider.ImageAnalyzer.Analyze(ctx, request)
		if err != nil {
			return "", err
		}
		return strings.TrimSuffix(result.Model+" "+result.ModelVersion, " "), nil
	})
	model := body.Model
	if result != nil {
		model = cmp.Or(strings.TrimSpace(result.Model+" "+result.ModelVersion), model)
	}
	auditID, err := call.finish(ctx, model, hash, callErr)
	if err != nil {
		return err
	}
	stored, err := o.p.storeFindings(ctx, call, object, result)
	if err != nil {
		return err
	}
	stored.AuditID = auditID
	return writeJSON(w, http.StatusCreated, stored)
}

func (o *operationRoutes) readAnalysis(ctx context.Context, w http.ResponseWriter, r *http.Request, req *request) (*analysisBody, error) {
	var body analysisBody
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		o.limitJSON(w, r)
		return &body, o.p.decodeRequest(ctx, r, schema.RequestImagingAnalysis, &body)
	}
	fields, blob, err := o.p.readUpload(ctx, r, req, "application/octet-stream")
	if err != nil {
		return nil, err
	}
	if blob != "" {
		fields["blob"] = blob
	}
	doc, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	return &body, o.p.decodeDocument(ctx, doc, schema.RequestImagingAnalysis, &body)
}

// resolveImage finds the object to analyse: a blob, or the DICOM object
// of an ImagingStudy the subject may read, whose subject is then the
// patient unless the request names one.
func (p *Pipeline) resolveImage(ctx context.Context, req *request, body *analysisBody) (imagingObject, error) {
	object := imagingObject{blob: body.Blob, patient: body.Patient}
	if object.blob == "" {
		studies, err := p.readStored(ctx, req, []string{body.ImagingStudy})
		if err != nil {
			return object, err
		}
		if len(studies) == 0 {
			return object, issueAt(sdk.CodeNotFound, "/imaging_study", "imaging_study", "no readable %s in this tenant", body.ImagingStudy)
		}
		blob, subject := studySource(studies[0])
		if blob == "" {
			return object, issueAt(sdk.CodeBusinessRule, "/imaging_study", "imaging_study", "%s names no stored DICOM object: create it with POST /v1/imaging/studies", body.ImagingStudy)
		}
		object.blob, object.patient = blob, cmp.Or(object.patient, subject)
	}
	storage, _, err := p.storage()
	if err != nil {
		return object, err
	}
	info, err := storage.Stat(ctx, blobKey(req.tenant, object.blob))
	if err != nil {
		return object, blobError(err, object.blob)
	}
	object.contentType = cmp.Or(info.ContentType, "application/octet-stream")
	return object, nil
}

// studySource returns the source blob and subject of an ImagingStudy.
func studySource(body []byte) (string, string) {
	var doc struct {
		Subject struct {
			Reference string `json:"reference"`
		} `json:"subject"`
		Extension []struct {
			URL         string `json:"url"`
			ValueString string `json:"valueString"`
		} `json:"extension"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return "", ""
	}
	for _, ext := range doc.Extension {
		if ext.URL == sourceBlobExtension {
			return ext.ValueString, doc.Subject.Reference
		}
	}
	return "", doc.Subject.Reference
}

// sendImage cleans the object under the decision and passes it to send.
// When the decision de-identifies, the subject is a pseudonym. A DICOM
// object is then de-identified by a provider with the deidentify
// capability that keeps data on this machine, and a PNG or JPEG image is
// decoded and encoded again without its metadata. Other objects do not
// leave. It returns the hash of what send received.
func (p *Pipeline) sendImage(ctx context.Context, call *providerCall, object imagingObject, model string, params map[string]string, send func(context.Context, sdk.ImagingRequest) (string, error)) (string, error) {
	storage, _, err := p.storage()
	if err != nil {
		return "", err
	}
	stored, _, err := storage.Get(ctx, blobKey(call.req.tenant, object.blob))
	if err != nil {
		return "", blobError(err, object.blob)
	}
	defer stored.Close()

	subject, err := call.pseudonymSubject(object.patient)
	if err != nil {
		return "", err
	}
	var content io.Reader = stored
	contentType := object.contentType
	if call.deidentifies() {
		if content, contentType, err = p.deidentifyImage(ctx, call, stored, object, subject); err != nil {
			return "", err
		}
	}
	request := sdk.ImagingRequest{ContentType: contentType, Model: model, Subject: subject, Parameters: params}
	digest, err := newPayloadDigest(map[string]any{"content_type": request.ContentType, "model": request.Model, "subject": request.Subject, "parameters": request.Parameters})
	if err != nil {
		return "", err
	}
	request.Object = digest.reader(content)
	_, err = send(ctx, request)
	return digest.sum(), err
}

// deidentifyImage returns the object as the provider may receive it.
func (p *Pipeline) deidentifyImage(ctx context.Context, call *providerCall, stored io.Reader, object imagingObject, subject string) (io.Reader, string, error) {
	rule := firstRule(call.decision.Obligations)
	mediaType, _, _ := mime.ParseMediaType(object.contentType)
	switch mediaType {
	case "application/dicom":
		deidentifier, err := p.localDeidentifier()
		if err != nil {
			return nil, "", err
		}
		params := map[string]string{}
		if subject != "" {
			params["patient_id_pseudonym"] = strings.TrimPrefix(subject, "Patient/")
		}
		var out bytes.Buffer
		result, err := deidentifier.Deidentify(ctx, sdk.ImagingRequest{Object: io.LimitReader(stored, maxImagingObject), ContentType: mediaType, Subject: subject, Parameters: params}, &out)
		if err != nil {
			return nil, "", fmt.Errorf("de-identify the DICOM object: %w", err)
		}
		call.note("", &obligation.Report{Changes: []obligation.Change{{Rule: rule, Action: obligation.ActionRemove, Path: "/object/dicom", Found: map[string]int{"attribute": len(result.Actions)}}}})
		return &out, mediaType, nil
	case "image/png", "image/jpeg":
		clean, err := reencodeImage(io.LimitReader(stored, maxImagingObject), mediaType)
		if err != nil {
			return nil, "", err
		}
		call.note("", &obligation.Report{Changes: []obligation.Change{{Rule: rule, Action: obligation.ActionRemove, Path: "/object/metadata"}}})
		return clean, mediaType, nil
	}
	return nil, "", issueAt(sdk.CodeBusinessRule, "", "", "analyze: the policy de-identifies what provider %q receives, and the hub de-identifies DICOM, PNG and JPEG only, not %s", call.provider.Info.Name, truncate(object.contentType, 80))
}

// localDeidentifier returns a provider with the deidentify capability
// whose data stays on this machine, because the object it receives still
// identifies the patient.
func (p *Pipeline) localDeidentifier() (sdk.Deidentifier, error) {
	for _, provider := range p.Plugins.Providers(sdk.KindImaging) {
		if !provider.Info.HasCapability(sdk.CapabilityDeidentify) || provider.DataUse().Egress {
			continue
		}
		if deidentifier, ok := provider.ImageAnalyzer.(sdk.Deidentifier); ok {
			return deidentifier, nil
		}
	}
	return nil, hubError(sdk.CodeNotSupported, "de-identify DICOM: no imaging provider with the deidentify capability runs on this machine: install imaging-dicom")
}

// storeFindings stores the DiagnosticReport and its Observations in one
// transaction, with the real patient as their subject.
func (p *Pipeline) storeFindings(ctx context.Context, call *providerCall, object imagingObject, result *sdk.ImagingResult) (*analysisResult, error) {
	report, err := findingResource(call, object.patient, result.Report, "DiagnosticReport")
	if err != nil {
		return nil, err
	}
	bodies := [][]byte{report}
	for _, raw := range result.Observations {
		observation, err := findingResource(call, object.patient, raw, "Observation")
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, observation)
	}
	stored, err := p.storeTransaction(ctx, call.req, bodies)
	if err != nil {
		return nil, err
	}
	return &analysisResult{DiagnosticReport: stored[0], Observations: stored[1:]}, nil
}

// findingResource maps the provider's pseudonyms back and sets the
// subject to the real patient.
func findingResource(call *providerCall, patient string, raw json.RawMessage, resourceType string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(call.restoreReferences(raw), &doc); err != nil || doc["resourceType"] != resourceType {
		return nil, sdk.Errorf(sdk.CodeStructure, "analyze: the provider returned a result that is not a %s", resourceType).WithSource(sdk.SourcePlugin)
	}
	if patient != "" {
		doc["subject"] = map[string]any{"reference": patient}
	}
	return json.Marshal(doc)
}

// storeTransaction validates resources the hub made from a provider's
// result and stores them in one transaction Bundle, each entry a POST
// whose fullUrl is urn:uuid:<id>, so that references between them by
// urn:uuid resolve. Each is decided and audited as a create.
func (p *Pipeline) storeTransaction(ctx context.Context, req *request, bodies [][]byte) ([]json.RawMessage, error) {
	entries, events, err := p.transactionEntries(ctx, req, bodies)
	if err != nil {
		return nil, err
	}
	bundle, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	if err != nil {
		return nil, err
	}

	response, err := p.Store.ProcessBundle(ctx, req.tenant, bundle)
	if err != nil {
		for i := range events {
			events[i].Outcome = outcomeCode(err)
		}
		return nil, joinAudit(p.recordAll(ctx, events), err)
	}
	out := make([]json.RawMessage, 0, len(response.Entries))
	for i, result := range response.Entries {
		if result.Resource != nil {
			events[i].ResourceID = result.Resource.ID
			out = append(out, result.Resource.Body)
		}
	}
	if err := p.recordAll(ctx, events); err != nil {
		return nil, err
	}
	return out, nil
}

// transactionEntry is one POST entry of a transaction Bundle.
type transactionEntry struct {
	FullURL  string            `json:"fullUrl,omitempty"`
	Resource json.RawMessage   `json:"resource"`
	Request  map[string]string `json:"request"`
}

// transactionEntries validates and decides each resource and returns its
// entry with the audit event to record once the transaction ran. A
// denied resource fails the whole transaction.
func (p *Pipeline) transactionEntries(ctx context.Context, req *request, bodies [][]byte) ([]transactionEntry, []audit.Event, error) {
	entries := make([]transactionEntry, len(bodies))
	events := make([]audit.Event, len(bodies))
	for i, body := range bodies {
		var doc struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		_ = json.Unmarshal(body, &doc)
		if err := p.Validator.Validate(ctx, doc.ResourceType, body); err != nil {
			return nil, nil, fmt.Errorf("store the %s made from the provider's result: %w", doc.ResourceType, asPluginFault(err))
		}

		facts := factsOf(body)
		decision := p.decide(ctx, req, "create", policy.Resource{Type: doc.ResourceType, Patient: facts.patient, SecurityLabels: facts.labels}, nil)
		events[i] = auditEvent(req, "create", doc.ResourceType, "", facts.patient, decision)
		if !decision.Allow {
			events[i].Outcome = string(sdk.CodeForbidden)
			return nil, nil, joinAudit(p.record(ctx, events[i]), forbidden(decision))
		}
		entries[i] = transactionEntry{Resource: body, Request: map[string]string{"method": "POST", "url": doc.ResourceType}}
		if doc.ID != "" {
			entries[i].FullURL = "urn:uuid:" + doc.ID
		}
	}
	return entries, events, nil
}

// patientReference matches a reference to a Patient by id.
var patientReference = regexp.MustCompile(`^Patient/[A-Za-z0-9\-.]{1,64}$`)
