package e2e_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/internal/hubtest"
)

// queueTranscription uploads tone audio as an async transcription and
// returns the 202 response.
func queueTranscription(t *testing.T, hub *hubtest.Hub, token string) []byte {
	t.Helper()
	var form bytes.Buffer
	writer := multipart.NewWriter(&form)
	require.NoError(t, writer.WriteField("async", "true"))
	require.NoError(t, writer.WriteField("language", "en"))
	part, err := writer.CreatePart(map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="note.wav"`}, "Content-Type": {"audio/wav"}})
	require.NoError(t, err)
	_, err = part.Write(toneWAV(false))
	require.NoError(t, err)
	require.NoError(t, writer.Close())
	status, resp := hub.Call(t, http.MethodPost, "/v1/transcriptions", token, map[string]string{"Content-Type": writer.FormDataContentType()}, form.Bytes())
	require.Equal(t, http.StatusAccepted, status, string(resp))
	return resp
}

// waitStatus polls a job until its status is want.
func waitStatus(t *testing.T, h *hubtest.Hub, token, path, want string) jobState {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last []byte
	for time.Now().Before(deadline) {
		status, body := h.Call(t, http.MethodGet, path, token, nil, nil)
		last = body
		require.Equal(t, http.StatusOK, status, string(body))
		var job jobState
		require.NoError(t, json.Unmarshal(body, &job))
		if job.Status == want {
			return job
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job %s did not reach %s within 90s: %s", path, want, last)
	return jobState{}
}

func jobPath(t *testing.T, accepted []byte) string {
	t.Helper()
	var queued struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	require.NoError(t, json.Unmarshal(accepted, &queued))
	require.NotEmpty(t, queued.Job.ID)
	return "/v1/jobs/" + queued.Job.ID
}

func TestTranscriptionJobSurvivesHubCrash(t *testing.T) {
	plugins := providerPlugins(t)
	vendors := startVendors(t)
	vendors.openai.AddTranscript(sha256Hex(toneWAV(false)), "Follow up in two weeks.")
	config := vendors.hubConfig(t, plugins)
	dataDir := t.TempDir()
	first := startConfiguredHub(t, dataDir, config, vendors.proxy.URL)
	token := first.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.cruds", "--ttl", "1h")

	// The vendor's first response is a 503, which the plugin does not
	// retry because the upload is a POST, so the job waits for its next
	// attempt.
	vendors.proxy.failNext(sttHost, 1)
	path := jobPath(t, queueTranscription(t, first, token))
	job := waitStatus(t, first, token, path, "retrying")
	require.Len(t, job.Errors, 1)
	assert.Contains(t, string(job.Errors[0]), "transient", "the attempt's error is kept as an OperationOutcome")
	first.Kill(t)

	second := startConfiguredHub(t, dataDir, config, vendors.proxy.URL)
	job = waitStatus(t, second, token, path, "succeeded")
	assert.Equal(t, 2, job.Attempt)
	require.Len(t, job.Resources, 1, "the job ends with the DocumentReference it stored")
	assert.Equal(t, "DocumentReference", job.Resources[0]["resourceType"])
	assert.Contains(t, mustJSON(t, job.Resources[0]), "Rm9sbG93IHVw", "the transcript is the attachment's data")
}

func TestDiscardedJobRunsAgainOnRetry(t *testing.T) {
	plugins := providerPlugins(t)
	vendors := startVendors(t)
	vendors.openai.AddTranscript(sha256Hex(toneWAV(false)), "Follow up in two weeks.")
	hub := startConfiguredHub(t, t.TempDir(), vendors.hubConfig(t, plugins), vendors.proxy.URL)
	token := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.cruds")

	vendors.proxy.failNext(sttHost, 3)
	path := jobPath(t, queueTranscription(t, hub, token))
	job := waitStatus(t, hub, token, path, "failed")
	assert.Equal(t, 3, job.Attempt, "jobs.max_attempts")
	require.Len(t, job.Errors, 3)

	listing := hub.CLI(t, "jobs", "list", "--state", "discarded")
	id := strings.TrimPrefix(path, "/v1/jobs/")
	assert.Contains(t, listing, id)
	assert.Contains(t, listing, "discarded")
	hub.CLI(t, "jobs", "retry", id)
	job = waitStatus(t, hub, token, path, "succeeded")
	require.Len(t, job.Resources, 1)

	status, body := hub.Call(t, http.MethodPost, path+"/retry", token, nil, nil)
	require.Equal(t, http.StatusAccepted, status, string(body))
	waitStatus(t, hub, token, path, "succeeded")

	other := hub.CLI(t, "token", "issue", "--subject", "dr-south", "--role", "clinician", "--tenant", "south", "--scope", "user/*.cruds")
	status, _ = hub.Call(t, http.MethodGet, path, other, nil, nil)
	assert.Equal(t, http.StatusNotFound, status, "another tenant does not see the job")
}
