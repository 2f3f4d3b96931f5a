package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/jobs"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/plugins/imaging/dicom/dicomreader"
	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
)

// cloudDataUse is the declaration of a vendor without a BAA.
var cloudDataUse = sdk.DataUse{Egress: true, Hosts: []string{"api.vendor.example"}, Region: "us-east-1", RetentionDays: 0}

// recordingChat is an in-process LLM provider that keeps the requests it
// receives and echoes the last message.
type recordingChat struct {
	mu       sync.Mutex
	received []sdk.ChatRequest
}

func (r *recordingChat) Chat(_ context.Context, req sdk.ChatRequest) (*sdk.ChatResponse, error) {
	r.mu.Lock()
	r.received = append(r.received, req)
	r.mu.Unlock()
	last := req.Messages[len(req.Messages)-1].Content
	return &sdk.ChatResponse{Message: sdk.ChatMessage{Role: sdk.RoleAssistant, Content: "Noted: " + last}, Model: "echo-1"}, nil
}

// recordingAnalyzer is an in-process imaging provider that keeps the
// object and request it receives and returns one finding.
type recordingAnalyzer struct {
	mu      sync.Mutex
	object  []byte
	request sdk.ImagingRequest
}

func (r *recordingAnalyzer) Analyze(_ context.Context, req sdk.ImagingRequest) (*sdk.ImagingResult, error) {
	object, err := io.ReadAll(req.Object)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.object, r.request = object, req
	r.mu.Unlock()
	observation := `{"resourceType":"Observation","id":"4a0b6c9e-3d1f-4b8e-9c2a-5e7f1a2b3c4d","status":"preliminary","code":{"text":"finding"},"subject":{"reference":"` + req.Subject + `"},"valueQuantity":{"value":0.7,"unit":"1","system":"http://unitsofmeasure.org","code":"1"}}`
	report := `{"resourceType":"DiagnosticReport","status":"preliminary","code":{"text":"imaging study"},"subject":{"reference":"` + req.Subject + `"},"result":[{"reference":"urn:uuid:4a0b6c9e-3d1f-4b8e-9c2a-5e7f1a2b3c4d"}]}`
	return &sdk.ImagingResult{Report: json.RawMessage(report), Observations: []json.RawMessage{json.RawMessage(observation)}, Model: "finder", ModelVersion: "2"}, nil
}

// recordingTranscriber is an in-process transcription provider that keeps
// the request and audio it receives.
type recordingTranscriber struct {
	mu      sync.Mutex
	audio   []byte
	request sdk.TranscriptionRequest
}

func (r *recordingTranscriber) Transcribe(_ context.Context, req sdk.TranscriptionRequest) (*sdk.Transcript, error) {
	audio, err := io.ReadAll(req.Audio)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.audio, r.request = audio, req
	r.mu.Unlock()
	return &sdk.Transcript{Text: "Blood pressure is stable.", Language: "en", Model: "scribe-3"}, nil
}

// inProcessHub is a daemon with in-process providers and a token.
type inProcessHub struct {
	daemon *Daemon
	token  string
	chat   *recordingChat
	images *recordingAnalyzer
	speech *recordingTranscriber
}

func newInProcessHub(t *testing.T, options ...func(*config.Config)) *inProcessHub {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{DataDir: dir}
	for _, option := range options {
		option(cfg)
	}
	cfg.Plugins.Dir = filepath.Join(dir, "no-plugins")
	cfg.Policy = policy.Config{AllowedRegions: []string{"us-east-1"}}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	d, err := New(context.Background(), cfg, key, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Server().Close(context.Background()) })

	storage, err := fsstore.New(fsstore.Config{Root: filepath.Join(dir, "objects")})
	require.NoError(t, err)
	reader, err := dicomreader.New(dicomreader.Config{})
	require.NoError(t, err)
	h := &inProcessHub{daemon: d, chat: &recordingChat{}, images: &recordingAnalyzer{}, speech: &recordingTranscriber{}}
	require.NoError(t, d.Plugins().Register(sdk.Provider{Info: fsstore.Info(), Storage: storage}))
	require.NoError(t, d.Plugins().Register(sdk.Provider{Info: dicomreader.Info(), ImageAnalyzer: reader}))
	require.NoError(t, d.Plugins().Register(sdk.Provider{Info: sdk.Info{Name: "cloud-llm", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindLLM}, DataUse: cloudDataUse}, ChatModel: h.chat}))
	require.NoError(t, d.Plugins().Register(sdk.Provider{Info: sdk.Info{Name: "cloud-scribe", Version: "3.1.0", Kinds: []sdk.Kind{sdk.KindTranscription}, DataUse: cloudDataUse}, Transcriber: h.speech}))
	require.NoError(t, d.Plugins().Register(sdk.Provider{Info: sdk.Info{Name: "cloud-vision", Version: "2.0.0", Kinds: []sdk.Kind{sdk.KindImaging}, DataUse: cloudDataUse}, ImageAnalyzer: h.images}))

	issuer, err := auth.NewIssuer(key, cfg.Auth)
	require.NoError(t, err)
	issued, err := issuer.Issue(auth.TokenRequest{Subject: "dr-lee", Roles: []string{"clinician"}, Tenant: "north", Scopes: []string{"user/*.cruds"}})
	require.NoError(t, err)
	h.token = issued.Token
	return h
}

func (h *inProcessHub) do(t *testing.T, method, target, contentType string, body []byte) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+h.token)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.daemon.Server().ServeHTTP(rec, r)
	return rec.Code, rec.Body.Bytes()
}

// auditEvents returns the tenant's audit events of an action.
func (h *inProcessHub) providerEvents(t *testing.T, provider string) []map[string]any {
	t.Helper()
	var out []map[string]any
	page, err := h.daemon.pipeline.Audit.Query(context.Background(), auditFilter("north"))
	require.NoError(t, err)
	for _, record := range page.Records {
		if record.Provider == provider && strings.HasPrefix(record.Action, "provider.") {
			encoded, err := json.Marshal(record)
			require.NoError(t, err)
			var event map[string]any
			require.NoError(t, json.Unmarshal(encoded, &event))
			out = append(out, event)
		}
	}
	return out
}

func TestChatAuditHashesTheBytesTheProviderReceived(t *testing.T) {
	hub := newInProcessHub(t)
	status, created := hub.do(t, http.MethodPost, "/fhir/Patient", "application/fhir+json",
		[]byte(`{"resourceType":"Patient","name":[{"family":"Quillfeather","given":["Zephyrine"]}],"telecom":[{"system":"phone","value":"617-555-0199"}],"birthDate":"1931-11-23"}`))
	require.Equal(t, http.StatusCreated, status, string(created))
	var patient struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(created, &patient))

	body := `{"patient":"Patient/` + patient.ID + `","messages":[{"role":"user","content":"Call Zephyrine Quillfeather at 617-555-0199."}]}`
	status, reply := hub.do(t, http.MethodPost, "/v1/chat", "application/json", []byte(body))
	require.Equal(t, http.StatusOK, status, string(reply))
	assert.Contains(t, string(reply), "Noted: Call Zephyrine Quillfeather at 617-555-0199.", "the reply's tokens are mapped back")

	require.Len(t, hub.chat.received, 1)
	received := hub.chat.received[0]
	sent, err := json.Marshal(received)
	require.NoError(t, err)
	for _, planted := range []string{"Zephyrine", "Quillfeather", "617-555-0199", "1931-11-23"} {
		assert.NotContains(t, string(sent), planted)
	}

	events := hub.providerEvents(t, "cloud-llm")
	require.Len(t, events, 1)
	sum := sha256.Sum256(sent)
	assert.Equal(t, hex.EncodeToString(sum[:]), events[0]["payload_sha256"], "the audit holds the hash of exactly what the provider received")
	assert.Equal(t, "provider.chat", events[0]["action"])
	assert.Equal(t, "1.0.0", events[0]["provider_version"])
	assert.Equal(t, "echo-1", events[0]["model_id"])
	assert.Contains(t, mustMarshal(t, events[0]["obligations"]), "egress.deidentify")
}

func TestAnalysisDeidentifiesDICOMForExternalProvider(t *testing.T) {
	hub := newInProcessHub(t)
	dicom, err := os.ReadFile("../../testdata/dicom/CT_small.dcm")
	require.NoError(t, err)
	require.Contains(t, string(dicom), "CompressedSamples^CT1", "the file names its patient")

	status, created := hub.do(t, http.MethodPost, "/v1/imaging/studies?patient=Patient/p-ct1", "application/dicom", dicom)
	require.Equal(t, http.StatusCreated, status, string(created))
	var study struct {
		ImagingStudy struct {
			ID string `json:"id"`
		} `json:"imaging_study"`
		PreviewURL string `json:"preview_url"`
	}
	require.NoError(t, json.Unmarshal(created, &study))
	assert.NotEmpty(t, study.PreviewURL, "imaging-dicom renders a preview")

	body := `{"imaging_study":"ImagingStudy/` + study.ImagingStudy.ID + `","provider":"cloud-vision"}`
	status, analysed := hub.do(t, http.MethodPost, "/v1/imaging/analyses", "application/json", []byte(body))
	require.Equal(t, http.StatusCreated, status, string(analysed))
	assert.Contains(t, string(analysed), `"reference":"Patient/p-ct1"`, "the stored findings name the real patient")

	received := hub.images
	assert.NotContains(t, string(received.object), "CompressedSamples", "the provider received the de-identified object")
	assert.Contains(t, string(received.object), "DICM")
	assert.NotEqual(t, "Patient/p-ct1", received.request.Subject, "the subject is a pseudonym")
	assert.True(t, strings.HasPrefix(received.request.Subject, "Patient/"))

	events := hub.providerEvents(t, "cloud-vision")
	require.Len(t, events, 1)
	metadata, err := json.Marshal(map[string]any{"content_type": received.request.ContentType, "model": received.request.Model, "subject": received.request.Subject, "parameters": received.request.Parameters})
	require.NoError(t, err)
	digest := sha256.New()
	digest.Write(metadata)
	digest.Write([]byte{'\n'})
	digest.Write(received.object)
	assert.Equal(t, hex.EncodeToString(digest.Sum(nil)), events[0]["payload_sha256"], "metadata line, newline, object bytes")
	assert.Equal(t, "finder 2", events[0]["model_id"])
}

func TestTranscriptionOfStoredBlob(t *testing.T) {
	hub := newInProcessHub(t)
	status, created := hub.do(t, http.MethodPost, "/fhir/Patient", "application/fhir+json",
		[]byte(`{"resourceType":"Patient","name":[{"family":"Quillfeather","given":["Zephyrine"]}]}`))
	require.Equal(t, http.StatusCreated, status, string(created))
	var patient struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(created, &patient))

	wav := []byte("RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00\x01\x00\x02\x00\x03\x00\x04\x00")
	status, stored := hub.do(t, http.MethodPost, "/v1/blobs", "audio/wav", wav)
	require.Equal(t, http.StatusCreated, status, string(stored))
	var blob struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(stored, &blob))

	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"missing blob", `{"patient":"Patient/` + patient.ID + `"}`, http.StatusBadRequest},
		{"unknown blob", `{"blob":"00000000000000000000000000000000"}`, http.StatusNotFound},
		{"unknown field", `{"blob":"` + blob.ID + `","speaker":"x"}`, http.StatusBadRequest},
		{"unknown provider", `{"blob":"` + blob.ID + `","provider":"nobody"}`, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := hub.do(t, http.MethodPost, "/v1/transcriptions", "application/json", []byte(tc.body))
			assert.Equal(t, tc.status, status, string(body))
			assert.Contains(t, string(body), "OperationOutcome")
		})
	}

	body := `{"blob":"` + blob.ID + `","patient":"Patient/` + patient.ID + `","language":"en","prompt":"Dictation for Zephyrine Quillfeather"}`
	status, result := hub.do(t, http.MethodPost, "/v1/transcriptions", "application/json", []byte(body))
	require.Equal(t, http.StatusCreated, status, string(result))
	assert.Contains(t, string(result), `"text":"Blood pressure is stable."`)
	assert.Contains(t, string(result), `"reference":"Patient/`+patient.ID+`"`)

	received := hub.speech
	assert.Equal(t, wav, received.audio, "a WAV file without metadata chunks passes unchanged")
	assert.NotContains(t, received.request.Prompt, "Zephyrine")
	assert.Contains(t, received.request.Prompt, "Dictation for")
	events := hub.providerEvents(t, "cloud-scribe")
	require.Len(t, events, 1)
	metadata, err := json.Marshal(map[string]string{"content_type": received.request.ContentType, "language": received.request.Language, "model": received.request.Model, "prompt": received.request.Prompt})
	require.NoError(t, err)
	digest := sha256.New()
	digest.Write(metadata)
	digest.Write([]byte{'\n'})
	digest.Write(received.audio)
	assert.Equal(t, hex.EncodeToString(digest.Sum(nil)), events[0]["payload_sha256"])
	assert.Equal(t, "scribe-3", events[0]["model_id"])
	assert.Equal(t, "provider.transcribe", events[0]["action"])
}

func auditFilter(tenant string) audit.Filter { return audit.Filter{Tenant: tenant, Limit: 1000} }

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// failingStreamer streams one piece and then fails, as a vendor that
// drops the connection mid-reply.
type failingStreamer struct{ recordingChat }

func (f *failingStreamer) ChatStream(_ context.Context, req sdk.ChatRequest, emit func(sdk.ChatDelta) error) (*sdk.ChatResponse, error) {
	if err := emit(sdk.ChatDelta{Content: "Hello"}); err != nil {
		return nil, err
	}
	return nil, sdk.Upstreamf(sdk.CodeTransient, "chat: the vendor closed the stream")
}

// createPatient stores the canary patient and returns its reference.
func (h *inProcessHub) createPatient(t *testing.T) string {
	t.Helper()
	status, created := h.do(t, http.MethodPost, "/fhir/Patient", "application/fhir+json",
		[]byte(`{"resourceType":"Patient","name":[{"family":"Quillfeather","given":["Zephyrine"]}]}`))
	require.Equal(t, http.StatusCreated, status, string(created))
	var patient struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(created, &patient))
	return "Patient/" + patient.ID
}

func TestProviderOutsideAllowedRegionIsDenied(t *testing.T) {
	hub := newInProcessHub(t)
	abroad := &recordingChat{}
	dataUse := cloudDataUse
	dataUse.Region = "ap-south-1"
	require.NoError(t, hub.daemon.Plugins().Register(sdk.Provider{Info: sdk.Info{Name: "abroad-llm", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindLLM}, DataUse: dataUse}, ChatModel: abroad}))

	status, body := hub.do(t, http.MethodPost, "/v1/chat", "application/json", []byte(`{"provider":"abroad-llm","messages":[{"role":"user","content":"hello"}]}`))
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, string(body), "egress.region")
	assert.Empty(t, abroad.received, "nothing was sent")
	events := hub.providerEvents(t, "abroad-llm")
	require.Len(t, events, 1)
	assert.Equal(t, "forbidden", events[0]["outcome"])
	assert.Equal(t, "deny", events[0]["decision"])
}

func TestStreamFailureAfterFirstPiece(t *testing.T) {
	hub := newInProcessHub(t)
	streamer := &failingStreamer{}
	require.NoError(t, hub.daemon.Plugins().Register(sdk.Provider{Info: sdk.Info{Name: "flaky-llm", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindLLM}, Capabilities: []string{sdk.CapabilityStream}, DataUse: cloudDataUse}, ChatModel: streamer}))

	status, body := hub.do(t, http.MethodPost, "/v1/chat", "application/json", []byte(`{"provider":"flaky-llm","stream":true,"messages":[{"role":"user","content":"hello"}]}`))
	require.Equal(t, http.StatusOK, status, "the stream had started")
	text := string(body)
	assert.Contains(t, text, "event: delta\ndata: {\"content\":\"Hello\"}\n\n")
	assert.Contains(t, text, "event: error\ndata: {\"resourceType\":\"OperationOutcome\"")
	assert.NotContains(t, text, "event: done")

	events := hub.providerEvents(t, "flaky-llm")
	require.Len(t, events, 2, "one event before the first piece, one for the failure")
	outcomes := []any{events[0]["outcome"], events[1]["outcome"]}
	assert.ElementsMatch(t, []any{"success", "transient"}, outcomes)
}

func TestNonWAVAudioDoesNotLeaveWhenDeidentified(t *testing.T) {
	hub := newInProcessHub(t)
	status, stored := hub.do(t, http.MethodPost, "/v1/blobs", "audio/mpeg", []byte("ID3\x03\x00\x00\x00\x00\x00\x10TIT2 Zephyrine Quillfeather"))
	require.Equal(t, http.StatusCreated, status, string(stored))
	var blob struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(stored, &blob))

	status, body := hub.do(t, http.MethodPost, "/v1/transcriptions", "application/json", []byte(`{"blob":"`+blob.ID+`"}`))
	assert.Equal(t, http.StatusUnprocessableEntity, status, string(body))
	assert.Contains(t, string(body), "WAV audio only")
	assert.Nil(t, hub.speech.audio, "the provider received nothing")
}

func TestQueuedTranscriptionKeepsNoPHIInItsJob(t *testing.T) {
	hub := newInProcessHub(t)
	job := queueTranscription(t, hub)
	params := string(job.Task.Params)
	assert.NotContains(t, params, "Zephyrine", "the prompt is a blob, not a job argument")
	assert.Contains(t, params, "prompt_blob")
	assert.Contains(t, params, `"patient":"Patient/`, "references may be arguments")

	job = waitJob(t, hub, job.ID)
	require.Equal(t, "completed", job.State, "%+v", job.Errors)
	assert.Equal(t, "Dictation for [NAME] [NAME]", hub.speech.request.Prompt, "the job scrubs the prompt it reads back")
}

func TestJobsRunOnPostgresStore(t *testing.T) {
	url := dbtest.PostgresSchema(t)
	hub := newInProcessHub(t, func(cfg *config.Config) {
		cfg.Store = store.Config{Driver: "postgres", URL: url}
		cfg.Audit = audit.Config{Driver: "postgres", URL: url}
	})
	job := waitJob(t, hub, queueTranscription(t, hub).ID)
	require.Equal(t, "completed", job.State, "%+v", job.Errors)
	assert.Contains(t, string(job.Output), "DocumentReference/")
}

// queueTranscription stores a patient and WAV audio and queues their
// transcription with a prompt that names the patient.
func queueTranscription(t *testing.T, hub *inProcessHub) *jobs.Job {
	t.Helper()
	patient := hub.createPatient(t)
	wav := []byte("RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00\x01\x00\x02\x00\x03\x00\x04\x00")
	status, stored := hub.do(t, http.MethodPost, "/v1/blobs", "audio/wav", wav)
	require.Equal(t, http.StatusCreated, status, string(stored))
	var blob struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(stored, &blob))

	body := `{"blob":"` + blob.ID + `","patient":"` + patient + `","async":true,"prompt":"Dictation for Zephyrine Quillfeather"}`
	status, accepted := hub.do(t, http.MethodPost, "/v1/transcriptions", "application/json", []byte(body))
	require.Equal(t, http.StatusAccepted, status, string(accepted))
	var queued struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	require.NoError(t, json.Unmarshal(accepted, &queued))
	id, err := strconv.ParseInt(queued.Job.ID, 10, 64)
	require.NoError(t, err)
	job, err := hub.daemon.pipeline.Jobs.Get(context.Background(), "north", id)
	require.NoError(t, err)
	return job
}

// waitJob polls a job until it has ended, for at most 30 seconds.
func waitJob(t *testing.T, hub *inProcessHub, id int64) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		job, err := hub.daemon.pipeline.Jobs.Get(context.Background(), "north", id)
		require.NoError(t, err)
		if job.Finished() {
			return job
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %d did not end within 30s", id)
	return nil
}

func TestUploadLimits(t *testing.T) {
	hub := newInProcessHub(t)
	var form bytes.Buffer
	writer := multipart.NewWriter(&form)
	for i := range 101 {
		require.NoError(t, writer.WriteField("parameters.p"+strconv.Itoa(i), "x"))
	}
	require.NoError(t, writer.Close())
	status, body := hub.do(t, http.MethodPost, "/v1/imaging/analyses", writer.FormDataContentType(), form.Bytes())
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, string(body))
	assert.Contains(t, string(body), "more than 100 form fields")

	large := `{"blob":"` + strings.Repeat("a", 9<<20) + `"}`
	status, body = hub.do(t, http.MethodPost, "/v1/transcriptions", "application/json", []byte(large))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, "the JSON form keeps limits.max_body_size: %.200s", body)
}
