package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the watcher goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestReloadLogsLocatedErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", minimalPolicy)
	var logs syncBuffer
	e, err := New(context.Background(), Config{Dir: dir}, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	assert.Contains(t, logs.String(), `"msg":"policy set loaded"`)

	writeFile(t, dir, "authz.rego", strings.Replace(minimalPolicy, `input.action == "read"`, `input.action == `, 1))
	require.Error(t, e.Reload(context.Background()))

	var rejected map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry))
		if entry["msg"] == "policy set rejected" {
			rejected = entry
		}
	}
	require.NotNil(t, rejected, logs.String())
	assert.Equal(t, "ERROR", rejected["level"])
	assert.Equal(t, filepath.Join(dir, "authz.rego"), rejected["file"])
	assert.Greater(t, rejected["row"], 0.0)
	assert.Contains(t, rejected, "col")
	assert.Equal(t, "rego_parse_error", rejected["code"])
	assert.NotEmpty(t, rejected["message"])

	// Restoring the file brings back the set in force, and the log records it.
	writeFile(t, dir, "authz.rego", minimalPolicy)
	require.NoError(t, e.Reload(context.Background()))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	assert.Contains(t, lines[len(lines)-1], `"msg":"policy set loaded"`)
}

// A canary patient name in the input never reaches the logs, whether the
// decision succeeds or fails.
func TestDecisionsLogNoPHI(t *testing.T) {
	const canary = "Zebulon Canarywood"
	var logs syncBuffer
	e, err := New(context.Background(), Config{}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)

	in := clinicianRead()
	in.Resource.Payload = json.RawMessage(`{"resourceType":"Patient","name":[{"text":"` + canary + `"}]}`)
	_, err = e.Decide(context.Background(), in)
	require.NoError(t, err)

	raw := []byte(`{"subject":{"id":"` + canary + `","roles":["clinician"]},"context":{"time":"` + canary + `"}}`)
	d, err := e.DecideJSON(context.Background(), raw)
	require.Error(t, err)
	assert.NotContains(t, d.Reasons[0].Message, canary)

	_, err = e.Explain(context.Background(), raw)
	require.Error(t, err)
	assert.NotContains(t, logs.String(), canary)
}
