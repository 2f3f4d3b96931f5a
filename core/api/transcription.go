package api

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/sdk"
)

// transcriptionBody is a transcription request, as
// schemas/hub/transcription-request.schema.json describes it.
type transcriptionBody struct {
	Provider    string `json:"provider,omitempty"`
	Blob        string `json:"blob,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Language    string `json:"language,omitempty"`
	Model       string `json:"model,omitempty"`
	Patient     string `json:"patient,omitempty"`
	Encounter   string `json:"encounter,omitempty"`
	Prompt      string `json:"prompt,omitempty"`
	Async       bool   `json:"async,omitempty"`
}

// transcriptionOp is a transcription as a job keeps it: the prompt, which
// may name the patient, is a blob of its own.
type transcriptionOp struct {
	Provider    string `json:"provider,omitempty"`
	Blob        string `json:"blob"`
	ContentType string `json:"content_type,omitempty"`
	Language    string `json:"language,omitempty"`
	Model       string `json:"model,omitempty"`
	Patient     string `json:"patient,omitempty"`
	Encounter   string `json:"encounter,omitempty"`
	PromptBlob  string `json:"prompt_blob,omitempty"`
}

// transcriptionResult is the response of a transcription.
type transcriptionResult struct {
	Transcript        *sdk.Transcript `json:"transcript"`
	DocumentReference json.RawMessage `json:"document_reference"`
	// AuditID is the id of the audit event of the provider call.
	AuditID string `json:"audit_id"`
}

// transcribe serves POST /v1/transcriptions: a multipart upload (form
// fields and the audio as the part "file") or JSON naming a stored blob.
// Long audio, or a request with async, runs as a job.
func (o *operationRoutes) transcribe(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	body, err := o.readTranscription(ctx, w, r, req)
	if err != nil {
		return err
	}
	op := transcriptionOp{Provider: body.Provider, Blob: body.Blob, ContentType: body.ContentType, Language: body.Language,
		Model: body.Model, Patient: body.Patient, Encounter: body.Encounter}

	storage, _, err := o.p.storage()
	if err != nil {
		return err
	}
	object, err := storage.Stat(ctx, blobKey(req.tenant, op.Blob))
	if err != nil {
		return blobError(err, op.Blob)
	}
	op.ContentType = cmp.Or(op.ContentType, object.ContentType)
	if body.Async || o.p.audioIsLong(ctx, storage, req.tenant, op, object.Size) {
		return o.queueTranscription(w, r, req, op, body.Prompt)
	}
	result, err := o.p.runTranscription(ctx, req, op, body.Prompt)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, result)
}

// readTranscription reads and validates the request. A multipart upload
// stores its audio as a blob first and names it in the result.
func (o *operationRoutes) readTranscription(ctx context.Context, w http.ResponseWriter, r *http.Request, req *request) (*transcriptionBody, error) {
	var body transcriptionBody
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		o.limitJSON(w, r)
		if err := o.p.decodeRequest(ctx, r, schema.RequestTranscription, &body); err != nil {
			return nil, err
		}
		if body.Blob == "" {
			return nil, issueAt(sdk.CodeRequired, "/blob", "blob", "transcribe: blob is missing: name stored audio, or upload it as multipart/form-data")
		}
		return &body, nil
	}

	fields, blob, err := o.p.readUpload(ctx, r, req, "audio/wav")
	if err != nil {
		return nil, err
	}
	if blob == "" {
		return nil, issueAt(sdk.CodeRequired, "/file", "file", "transcribe: the upload has no part named \"file\": add the audio as that part")
	}
	fields["blob"] = blob
	doc, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	if err := o.p.decodeDocument(ctx, doc, schema.RequestTranscription, &body); err != nil {
		return nil, err
	}
	return &body, nil
}

// audioIsLong reports whether a transcription runs as a job by its size or,
// for WAV, its length.
func (p *Pipeline) audioIsLong(ctx context.Context, storage sdk.Storage, tenant string, op transcriptionOp, size int64) bool {
	if size > p.Operations.AsyncAudioBytes.Or(DefaultAsyncAudioBytes) {
		return true
	}
	if !isWAV(op.ContentType) {
		return false
	}
	audio, _, err := storage.Get(ctx, blobKey(tenant, op.Blob))
	if err != nil {
		return false
	}
	defer audio.Close()
	header, err := readWAVHeader(audio)
	return err == nil && header.duration() > p.Operations.AsyncAudioDuration.Or(DefaultAsyncAudioDuration)
}

// queueTranscription checks the policy now, so that a denied request fails
// at once, and queues the transcription. The prompt goes to storage, so
// that the job's row holds its blob key only.
func (o *operationRoutes) queueTranscription(w http.ResponseWriter, r *http.Request, req *request, op transcriptionOp, prompt string) error {
	ctx := r.Context()
	provider, err := o.p.pickProvider(sdk.KindTranscription, op.Provider, o.p.Operations.Transcription, "")
	if err != nil {
		return err
	}
	op.Provider = provider.Info.Name
	if _, err := o.p.beginCall(ctx, req, "transcribe", sdk.KindTranscription, provider, policy.Resource{Type: "DocumentReference", Patient: op.Patient}); err != nil {
		return err
	}
	if prompt != "" {
		id, _, err := o.p.storeBlob(ctx, req, strings.NewReader(prompt), "text/plain; charset=utf-8", int64(len(prompt)))
		if err != nil {
			return err
		}
		op.PromptBlob = id
	}
	job, err := o.p.enqueue(ctx, req, JobTranscription, op)
	if err != nil {
		return err
	}
	return o.accepted(w, r, job)
}

// transcriptionJob runs a queued transcription.
func (p *Pipeline) transcriptionJob(ctx context.Context, req *request, raw json.RawMessage, _ func(jobOutput) error) (jobOutput, error) {
	var op transcriptionOp
	if err := json.Unmarshal(raw, &op); err != nil {
		return jobOutput{}, err
	}
	prompt := ""
	if op.PromptBlob != "" {
		text, err := p.readBlobText(ctx, req.tenant, op.PromptBlob)
		if err != nil {
			return jobOutput{}, err
		}
		prompt = text
	}
	result, err := p.runTranscription(ctx, req, op, prompt)
	if err != nil {
		return jobOutput{}, err
	}
	return jobOutput{Resources: []string{referenceOf(result.DocumentReference)}, Total: 1, Done: 1}, nil
}

// runTranscription sends the audio to the provider under the egress
// decision and stores the transcript as a DocumentReference.
func (p *Pipeline) runTranscription(ctx context.Context, req *request, op transcriptionOp, prompt string) (*transcriptionResult, error) {
	provider, err := p.pickProvider(sdk.KindTranscription, op.Provider, p.Operations.Transcription, "")
	if err != nil {
		return nil, err
	}
	call, err := p.beginCall(ctx, req, "transcribe", sdk.KindTranscription, provider, policy.Resource{Type: "DocumentReference", Patient: op.Patient})
	if err != nil {
		return nil, err
	}
	transcript, hash, callErr := p.sendAudio(ctx, call, op, prompt)
	model := cmp.Or(op.Model, "")
	if transcript != nil {
		model = cmp.Or(transcript.Model, model)
	}
	auditID, err := call.finish(ctx, model, hash, callErr)
	if err != nil {
		return nil, err
	}

	stored, err := p.storeResource(ctx, req, transcriptDocument(op, provider.Info, transcript))
	if err != nil {
		return nil, err
	}
	return &transcriptionResult{Transcript: transcript, DocumentReference: stored, AuditID: auditID}, nil
}

// sendAudio cleans what the provider receives and calls it: the prompt is
// scrubbed of the patient's identifying values and, when the decision
// de-identifies, the audio loses its container metadata. Audio whose
// metadata the hub cannot remove does not leave.
func (p *Pipeline) sendAudio(ctx context.Context, call *providerCall, op transcriptionOp, prompt string) (*sdk.Transcript, string, error) {
	if call.deidentifies() {
		if err := p.learnPatient(ctx, call.req, op.Patient); err != nil {
			return nil, "", err
		}
		prompt = call.applyText("/prompt", prompt)
	}
	storage, _, err := p.storage()
	if err != nil {
		return nil, "", err
	}
	object, _, err := storage.Get(ctx, blobKey(call.req.tenant, op.Blob))
	if err != nil {
		return nil, "", blobError(err, op.Blob)
	}
	defer object.Close()

	var audio io.Reader = object
	if call.deidentifies() {
		if !isWAV(op.ContentType) {
			return nil, "", issueAt(sdk.CodeBusinessRule, "/content_type", "content_type",
				"transcribe: the policy de-identifies what provider %q receives, and the hub removes metadata from WAV audio only: send audio/wav, or use a provider the policy trusts with %s", call.provider.Info.Name, op.ContentType)
		}
		stripped, dropped, err := stripWAVMetadata(object)
		if err != nil {
			return nil, "", err
		}
		audio = stripped
		if dropped > 0 {
			call.note("", &obligation.Report{Changes: []obligation.Change{{Rule: firstRule(call.decision.Obligations), Action: obligation.ActionRemove, Path: "/audio/metadata"}}})
		}
	}

	request := sdk.TranscriptionRequest{ContentType: op.ContentType, Language: op.Language, Model: op.Model, Prompt: prompt}
	digest, err := newPayloadDigest(map[string]string{"content_type": request.ContentType, "language": request.Language, "model": request.Model, "prompt": request.Prompt})
	if err != nil {
		return nil, "", err
	}
	request.Audio = digest.reader(audio)
	transcript, err := call.provider.Transcriber.Transcribe(ctx, request)
	return transcript, digest.sum(), err
}

// learnPatient adds the identifying values of the patient to what the
// request's session scrubs from free text.
func (p *Pipeline) learnPatient(ctx context.Context, req *request, patient string) error {
	if patient == "" {
		return nil
	}
	res, err := p.Store.Read(ctx, req.tenant, "Patient", strings.TrimPrefix(patient, "Patient/"))
	if errors.Is(err, sdk.ErrNotFound) {
		return issueAt(sdk.CodeNotFound, "/patient", "patient", "no patient %s in this tenant", patient)
	}
	if err != nil {
		return err
	}
	return req.obligations.Learn(res.Body)
}

// transcriptDocument is the DocumentReference that keeps a transcript:
// the text as a text/plain attachment and the audio as a link to its blob.
func transcriptDocument(op transcriptionOp, provider sdk.Info, t *sdk.Transcript) []byte {
	doc := map[string]any{
		"resourceType": "DocumentReference",
		"status":       "current",
		"docStatus":    "preliminary",
		"type":         map[string]any{"text": "Audio transcript"},
		"date":         time.Now().UTC().Format(time.RFC3339),
		"description":  "Transcript made by " + provider.Name + " " + provider.Version,
		"content": []any{
			map[string]any{"attachment": map[string]any{
				"contentType": "text/plain; charset=utf-8", "language": cmp.Or(t.Language, op.Language),
				"data": base64.StdEncoding.EncodeToString([]byte(t.Text)), "title": "Transcript",
			}},
			map[string]any{"attachment": map[string]any{"contentType": op.ContentType, "url": blobURN(op.Blob), "title": "Recording"}},
		},
	}
	if op.Patient != "" {
		doc["subject"] = map[string]string{"reference": op.Patient}
	}
	if op.Encounter != "" {
		doc["context"] = map[string]any{"encounter": []any{map[string]string{"reference": op.Encounter}}}
	}
	attachment := doc["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
	if attachment["language"] == "" {
		delete(attachment, "language")
	}
	body, _ := json.Marshal(doc)
	return body
}

// blobURN names a stored blob in a resource; GET /v1/blobs/{id} serves it.
func blobURN(id string) string { return "urn:healthhub:blob:" + id }

// referenceOf returns "Type/id" of a resource's JSON.
func referenceOf(body []byte) string {
	var doc struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	return doc.ResourceType + "/" + doc.ID
}
