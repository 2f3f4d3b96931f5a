package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hubBinary is the hub built once for the tests of this package.
var hubBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hub-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hubBinary = filepath.Join(dir, "hub")
	build := exec.Command("go", "build", "-o", hubBinary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hub:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hubProcess is a running "hub serve".
type hubProcess struct {
	cmd     *exec.Cmd
	baseURL string
	dataDir string
	mu      sync.Mutex
	logs    []string
	exited  chan error
}

// startHub starts "hub serve" on a free loopback port with its own data
// directory and waits until it listens.
func startHub(t *testing.T, env ...string) *hubProcess {
	t.Helper()
	return startHubIn(t, t.TempDir(), env...)
}

// startHubIn is startHub on an existing data directory, as a restart.
func startHubIn(t *testing.T, dataDir string, env ...string) *hubProcess {
	t.Helper()
	cmd := exec.Command(hubBinary, "serve")
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+dataDir, "HUB_SERVER_LISTEN=127.0.0.1:0")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	h := &hubProcess{cmd: cmd, dataDir: dataDir, exited: make(chan error, 1)}
	listening := make(chan string, 1)
	go h.readLogs(stderr, listening)
	go func() { h.exited <- cmd.Wait() }()
	t.Cleanup(func() { h.stop(t) })

	select {
	case address := <-listening:
		h.baseURL = "http://" + address
	case err := <-h.exited:
		t.Fatalf("hub exited before listening: %v\n%s", err, h.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("hub did not listen within 30s\n%s", h.logText())
	}
	return h
}

func (h *hubProcess) readLogs(r io.Reader, listening chan<- string) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		h.mu.Lock()
		h.logs = append(h.logs, line)
		h.mu.Unlock()
		var entry struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "hub listening" {
			listening <- entry.Address
		}
	}
}

func (h *hubProcess) logText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.logs, "\n")
}

// stop sends SIGTERM and waits for the hub to exit.
func (h *hubProcess) stop(t *testing.T) {
	if h.cmd.ProcessState != nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(30 * time.Second):
		_ = h.cmd.Process.Kill()
		t.Errorf("hub did not stop within 30s of SIGTERM")
	}
}

// cli runs a hub command against the process's data directory.
func (h *hubProcess) cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(hubBinary, args...)
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+h.dataDir)
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if err != nil && errorAs(err, &exitErr) {
		t.Fatalf("hub %s: %v: %s", strings.Join(args, " "), err, exitErr.Stderr)
	}
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

func errorAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func (h *hubProcess) get(t *testing.T, path, credential string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.baseURL+path, nil)
	require.NoError(t, err)
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	for name, value := range headers {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// expiredToken signs a token that expired an hour ago with the hub's key.
func expiredToken(t *testing.T, dataDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "token-signing.key"))
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: parsed.(ed25519.PrivateKey)}, nil)
	require.NoError(t, err)
	past := time.Now().Add(-2 * time.Hour)
	token, err := jwt.Signed(signer).Claims(map[string]any{
		"iss": "healthhub", "aud": "healthhub", "sub": "dr-lee", "roles": []string{"clinician"}, "tenant": "north",
		"iat": past.Unix(), "exp": past.Add(time.Hour).Unix(),
	}).Serialize()
	require.NoError(t, err)
	return token
}

func TestServeAuthenticatesRealCredentials(t *testing.T) {
	hub := startHub(t)
	token := hub.cli(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north")
	apiKey := hub.cli(t, "apikey", "create", "--subject", "lab-feed", "--role", "service", "--tenant", "north")

	resp, body := hub.get(t, "/healthz", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body = hub.get(t, "/v1/session", token, map[string]string{"X-Purpose-Of-Use": "TREAT"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"id":"dr-lee"`)
	assert.Contains(t, string(body), `"purpose_of_use":"TREAT"`)

	resp, body = hub.get(t, "/v1/session", apiKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"method":"api-key"`)

	resp, _ = hub.get(t, "/metrics", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestServeRejectsBadRequests(t *testing.T) {
	hub := startHub(t)
	token := hub.cli(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north")

	tests := []struct {
		name       string
		path       string
		credential string
		headers    map[string]string
		status     int
		code       string
	}{
		{"missing token", "/v1/session", "", nil, http.StatusUnauthorized, "login"},
		{"expired token", "/v1/session", expiredToken(t, hub.dataDir), nil, http.StatusUnauthorized, "login"},
		{"garbage token", "/v1/session", "not.a.token", nil, http.StatusUnauthorized, "login"},
		{"revoked style api key", "/v1/session", "hhk_0000000000000000_secret", nil, http.StatusUnauthorized, "login"},
		{"bad purpose header", "/v1/session", token, map[string]string{"X-Purpose-Of-Use": "<script>"}, http.StatusBadRequest, "invalid"},
		{"unknown route", "/fhir/NoSuchType/1", token, nil, http.StatusNotFound, "not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := hub.get(t, tc.path, tc.credential, tc.headers)
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			assert.Equal(t, "application/fhir+json; charset=utf-8", resp.Header.Get("Content-Type"))
			var outcome struct {
				ResourceType string `json:"resourceType"`
				Issue        []struct {
					Code string `json:"code"`
				} `json:"issue"`
			}
			require.NoError(t, json.Unmarshal(body, &outcome), string(body))
			assert.Equal(t, "OperationOutcome", outcome.ResourceType)
			require.NotEmpty(t, outcome.Issue)
			assert.Equal(t, tc.code, outcome.Issue[0].Code)
		})
	}
	assert.NotContains(t, hub.logText(), `"status":500`)
}

func TestServeStopsOnSIGTERM(t *testing.T) {
	hub := startHub(t)
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-hub.exited:
		assert.NoError(t, err, "exit status 0 after a graceful stop")
	case <-time.After(30 * time.Second):
		t.Fatal("hub did not stop within 30s")
	}
	assert.Contains(t, hub.logText(), `"msg":"hub stopped"`)
}

func TestServeRejectsInvalidConfiguration(t *testing.T) {
	cmd := exec.Command(hubBinary, "serve")
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+t.TempDir(), "HUB_LOGGING_LEVEL=loud")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	require.True(t, errorAs(err, &exitErr), "want a non-zero exit, got %v", err)
	assert.Equal(t, 2, exitErr.ExitCode())
	assert.Contains(t, string(out), "logging.level: must be one of debug, info, warn, error (set by HUB_LOGGING_LEVEL)")
}

var (
	pluginsOnce sync.Once
	pluginsDir  string
	pluginsErr  error
)

// builtPlugins builds the storage-fs plugin into a plugin directory and
// stamps its manifest, as make build does.
func builtPlugins(t *testing.T) string {
	t.Helper()
	pluginsOnce.Do(func() {
		pluginsDir = filepath.Join(filepath.Dir(hubBinary), "plugins")
		out := filepath.Join(pluginsDir, "storage-fs")
		if pluginsErr = os.MkdirAll(out, 0o755); pluginsErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(out, "storage-fs"), "../../plugins/storage/fs")
		if output, err := build.CombinedOutput(); err != nil {
			pluginsErr = err
			t.Logf("build storage-fs: %s", output)
			return
		}
		for _, name := range []string{"manifest.json", "config.schema.json"} {
			data, err := os.ReadFile(filepath.Join("../../plugins/storage/fs", name))
			if err != nil {
				pluginsErr = err
				return
			}
			if pluginsErr = os.WriteFile(filepath.Join(out, name), data, 0o644); pluginsErr != nil {
				return
			}
		}
		if output, err := exec.Command(hubBinary, "plugins", "stamp", out).CombinedOutput(); err != nil {
			pluginsErr = err
			t.Logf("stamp storage-fs: %s", output)
		}
	})
	require.NoError(t, pluginsErr)
	return pluginsDir
}

func TestServeRunsAndStopsPlugins(t *testing.T) {
	hub := startHub(t, "HUB_PLUGINS_DIR="+builtPlugins(t))
	token := hub.cli(t, "token", "issue", "--subject", "ops", "--role", "admin", "--tenant", "north")

	resp, body := hub.get(t, "/v1/plugins", token, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var listing struct {
		Plugins []struct {
			Name   string `json:"name"`
			State  string `json:"state"`
			PID    int    `json:"pid"`
			Health string `json:"health"`
		} `json:"plugins"`
	}
	require.NoError(t, json.Unmarshal(body, &listing))
	require.Len(t, listing.Plugins, 1)
	storage := listing.Plugins[0]
	assert.Equal(t, "storage-fs", storage.Name)
	assert.Equal(t, "running", storage.State)
	assert.Equal(t, "ok", storage.Health)
	require.Positive(t, storage.PID)

	resp, body = hub.get(t, "/readyz", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok","checks":{"storage":"ok","store":"ok","audit":"ok"}}`, string(body))
	_, err := os.Stat(filepath.Join(hub.dataDir, "objects"))
	assert.NoError(t, err, "storage-fs keeps its objects in the data directory")

	hub.stop(t)
	assert.False(t, processAlive(storage.PID), "the plugin process stops with the hub")
}

// processAlive reports whether a process with pid exists.
func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// post sends a JSON body to the hub.
func (h *hubProcess) post(t *testing.T, path, credential, body string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.baseURL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+credential)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data
}

func TestServePolicyDryRun(t *testing.T) {
	hub := startHub(t)
	admin := hub.cli(t, "token", "issue", "--subject", "policy-author", "--role", "admin", "--tenant", "north")
	clinician := hub.cli(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north")
	input := func(tenant string) string {
		return `{"subject":{"id":"Practitioner/dr-lee","roles":["clinician"],"tenant":"north","scopes":["user/*.rs"],"purpose_of_use":"TREAT"},
			"action":"read","resource":{"type":"Observation","id":"o1","tenant":"` + tenant + `","patient":"Patient/p1"},
			"context":{"request_id":"dry-run"}}`
	}

	tests := []struct {
		name   string
		tenant string
		allow  bool
		reason string
	}{
		{"same tenant", "north", true, "access.role"},
		{"other tenant", "south", false, "tenant.mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := hub.post(t, "/v1/policy/decide", admin, input(tc.tenant))
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var result struct {
				Decision struct {
					ID      string `json:"decision_id"`
					Allow   bool   `json:"allow"`
					Reasons []struct {
						Code string `json:"code"`
					} `json:"reasons"`
				} `json:"decision"`
			}
			require.NoError(t, json.Unmarshal(body, &result))
			assert.Equal(t, tc.allow, result.Decision.Allow)
			assert.NotEmpty(t, result.Decision.ID)
			var codes []string
			for _, reason := range result.Decision.Reasons {
				codes = append(codes, reason.Code)
			}
			assert.Contains(t, codes, tc.reason)
		})
	}

	resp, body := hub.post(t, "/v1/policy/decide?explain=true", admin, input("north"))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), "access")

	resp, body = hub.post(t, "/v1/policy/decide", clinician, input("north"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "only admins use the dry run")
	assert.Contains(t, string(body), `needs role \"admin\"`)

	resp, body = hub.post(t, "/v1/policy/decide", admin, `{"subject":`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))

	resp, body = hub.post(t, "/v1/policy/decide", admin, `{"subjekt": {"roles": ["clinician"]}, "action": "read"}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `unknown field \"subjekt\"`)

	resp, body = hub.post(t, "/v1/policy/reload", admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Regexp(t, `"revision":"[0-9a-f]{64}"`, string(body))
}
