package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
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

	"github.com/healthhub/healthhub/internal/hubtest"
)

// hubBinary is the hub built once for the tests of this package.
var hubBinary string

func TestMain(m *testing.M) {
	binary, cleanup, err := hubtest.Build(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hubBinary = binary
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// startHub starts "hub serve" on a free loopback port with its own data
// directory and waits until it listens.
func startHub(t *testing.T, env ...string) *hubtest.Hub {
	t.Helper()
	return startHubIn(t, t.TempDir(), env...)
}

// startHubIn is startHub on an existing data directory, as a restart.
func startHubIn(t *testing.T, dataDir string, env ...string) *hubtest.Hub {
	t.Helper()
	return hubtest.Start(t, hubBinary, dataDir, nil, env...)
}

// get sends a GET request to the hub.
func get(t *testing.T, h *hubtest.Hub, path, credential string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	return h.Do(t, http.MethodGet, path, credential, headers, nil)
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
	token := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north")
	apiKey := hub.CLI(t, "apikey", "create", "--subject", "lab-feed", "--role", "service", "--tenant", "north")

	resp, body := get(t, hub, "/healthz", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body = get(t, hub, "/v1/session", token, map[string]string{"X-Purpose-Of-Use": "TREAT"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"id":"dr-lee"`)
	assert.Contains(t, string(body), `"purpose_of_use":"TREAT"`)

	resp, body = get(t, hub, "/v1/session", apiKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"method":"api-key"`)

	resp, _ = get(t, hub, "/metrics", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestServeRejectsBadRequests(t *testing.T) {
	hub := startHub(t)
	token := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north")

	tests := []struct {
		name       string
		path       string
		credential string
		headers    map[string]string
		status     int
		code       string
	}{
		{"missing token", "/v1/session", "", nil, http.StatusUnauthorized, "login"},
		{"expired token", "/v1/session", expiredToken(t, hub.DataDir), nil, http.StatusUnauthorized, "login"},
		{"garbage token", "/v1/session", "not.a.token", nil, http.StatusUnauthorized, "login"},
		{"revoked style api key", "/v1/session", "hhk_0000000000000000_secret", nil, http.StatusUnauthorized, "login"},
		{"bad purpose header", "/v1/session", token, map[string]string{"X-Purpose-Of-Use": "<script>"}, http.StatusBadRequest, "invalid"},
		{"unknown route", "/fhir/NoSuchType/1", token, nil, http.StatusNotFound, "not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, hub, tc.path, tc.credential, tc.headers)
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
	assert.NotContains(t, hub.Logs(), `"status":500`)
}

func TestServeStopsOnSIGTERM(t *testing.T) {
	hub := startHub(t)
	require.NoError(t, hub.Signal(syscall.SIGTERM))
	select {
	case <-hub.Exited():
		assert.NoError(t, hub.Err(), "exit status 0 after a graceful stop")
	case <-time.After(30 * time.Second):
		t.Fatal("hub did not stop within 30s")
	}
	assert.Contains(t, hub.Logs(), `"msg":"hub stopped"`)
}

func TestServeRejectsInvalidConfiguration(t *testing.T) {
	cmd := exec.Command(hubBinary, "serve")
	cmd.Env = append(os.Environ(), "HUB_DATA_DIR="+t.TempDir(), "HUB_LOGGING_LEVEL=loud")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	require.True(t, errors.As(err, &exitErr), "want a non-zero exit, got %v", err)
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
	token := hub.CLI(t, "token", "issue", "--subject", "ops", "--role", "admin", "--tenant", "north")

	resp, body := get(t, hub, "/v1/plugins", token, nil)
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

	resp, body = get(t, hub, "/readyz", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok","checks":{"storage":"ok","store":"ok","audit":"ok"}}`, string(body))
	_, err := os.Stat(filepath.Join(hub.DataDir, "objects"))
	assert.NoError(t, err, "storage-fs keeps its objects in the data directory")

	hub.Stop(t)
	assert.False(t, processAlive(storage.PID), "the plugin process stops with the hub")
}

// processAlive reports whether a process with pid exists.
func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// post sends a JSON body to the hub.
func post(t *testing.T, h *hubtest.Hub, path, credential, body string) (*http.Response, []byte) {
	t.Helper()
	headers := map[string]string{}
	if body != "" {
		headers["Content-Type"] = "application/json"
	}
	return h.Do(t, http.MethodPost, path, credential, headers, strings.NewReader(body))
}

func TestServePolicyDryRun(t *testing.T) {
	hub := startHub(t)
	admin := hub.CLI(t, "token", "issue", "--subject", "policy-author", "--role", "admin", "--tenant", "north")
	clinician := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north")
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
			resp, body := post(t, hub, "/v1/policy/decide", admin, input(tc.tenant))
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

	resp, body := post(t, hub, "/v1/policy/decide?explain=true", admin, input("north"))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), "access")

	resp, body = post(t, hub, "/v1/policy/decide", clinician, input("north"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "only admins use the dry run")
	assert.Contains(t, string(body), `needs role \"admin\"`)

	resp, body = post(t, hub, "/v1/policy/decide", admin, `{"subject":`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))

	resp, body = post(t, hub, "/v1/policy/decide", admin, `{"subjekt": {"roles": ["clinician"]}, "action": "read"}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `unknown field \"subjekt\"`)

	resp, body = post(t, hub, "/v1/policy/reload", admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Regexp(t, `"revision":"[0-9a-f]{64}"`, string(body))
}
