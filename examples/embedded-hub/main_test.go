package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded hub decides, serves and audits a chat with the in-process
// model as it would with a plugin.
func TestEmbeddedHubServesChat(t *testing.T) {
	dir := t.TempDir()
	environ := []string{
		"HUB_DATA_DIR=" + filepath.Join(dir, "data"),
		"HUB_PLUGINS_DIR=" + t.TempDir(), // no subprocess plugins
		"HUB_SERVER_LISTEN=127.0.0.1:0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	type listening struct{ addr, token string }
	started := make(chan listening, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, environ, &logs, func(addr, token string) { started <- listening{addr, token} })
	}()
	var hub listening
	select {
	case hub = <-started:
	case err := <-done:
		t.Fatalf("the hub did not start: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatal("the hub did not start within 60s")
	}

	body := `{"provider":"word-count","messages":[{"role":"user","content":"does the patient need a follow-up visit"}]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+hub.addr+"/v1/chat", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+hub.token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var reply struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		AuditID string `json:"audit_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply))
	assert.Equal(t, "7 words", reply.Message.Content)
	assert.NotEmpty(t, reply.AuditID, "the call was audited")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "the hub stops cleanly when its context ends")
	case <-time.After(30 * time.Second):
		t.Fatal("the hub did not stop within 30s")
	}
}
