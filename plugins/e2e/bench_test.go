package e2e_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/daemon"
	"github.com/healthhub/healthhub/sdk"
)

// benchQuestion is the user message of every benchmarked chat: about 40
// words with a phone number and a date, so that scrubbing has work.
const benchQuestion = "Summarize the visit of 2024-03-02: the patient called from 617-555-0142 about a persistent cough for three weeks, mild fever in the evenings, no shortness of breath, and asked whether the inhaler dose can be raised before the follow up."

// benchHub is a daemon in this process whose llm-openai plugin runs as a
// subprocess and reaches the openaitest server through the proxy.
type benchHub struct {
	server  *httptest.Server
	token   string
	daemon  *daemon.Daemon
	vendors *vendorServers
}

func startBenchHub(b *testing.B) *benchHub {
	b.Helper()
	plugins := providerPlugins(b)
	vendors := startVendors(b)
	vendors.proxy.quiet = true
	b.Setenv("HTTP_PROXY", vendors.proxy.URL)
	b.Setenv("http_proxy", vendors.proxy.URL)
	b.Setenv("NO_PROXY", "")
	b.Setenv("no_proxy", "")

	environ := []string{"HUB_DATA_DIR=" + b.TempDir(), "HUB_LOGGING_ACCESS_LOG=false", "HUB_LIMITS_RATE_LIMIT_DISABLED=true"}
	cfg, _, err := config.Load(vendors.hubConfig(b, plugins), environ)
	require.NoError(b, err)
	cfg.Logging.Level = "warn"
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	d, err := daemon.New(context.Background(), cfg, key, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	require.NoError(b, err)
	server := httptest.NewServer(d.Server())
	b.Cleanup(func() {
		server.Close()
		_ = d.Server().Close(context.Background())
	})
	issuer, err := auth.NewIssuer(key, cfg.Auth)
	require.NoError(b, err)
	issued, err := issuer.Issue(auth.TokenRequest{Subject: "dr-lee", Roles: []string{"clinician"}, Tenant: "north", Scopes: []string{"user/*.cruds"}})
	require.NoError(b, err)
	return &benchHub{server: server, token: issued.Token, daemon: d, vendors: vendors}
}

// post sends body and fails the benchmark on any status but 200.
func post(b *testing.B, client *http.Client, target string, header http.Header, body []byte) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d: %s", resp.StatusCode, data)
	}
}

// BenchmarkProviderCall measures one chat call three ways in the same run.
// "direct" goes straight to the vendor server through the same proxy, and
// "plugin" through the llm-openai plugin process without the hub's
// pipeline. "hub" is POST /v1/chat: authentication, schema, the policy
// decision with the plugin's data use, de-identification, the plugin hop
// and the audit append.
func BenchmarkProviderCall(b *testing.B) {
	hub := startBenchHub(b)
	proxyURL, err := url.Parse(hub.vendors.proxy.URL)
	require.NoError(b, err)

	b.Run("direct", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
		body, err := json.Marshal(map[string]any{"model": "gpt-canary", "messages": []any{map[string]string{"role": "user", "content": benchQuestion}}})
		require.NoError(b, err)
		header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-canary"}}
		for b.Loop() {
			post(b, client, "http://"+llmHost+"/v1/chat/completions", header.Clone(), body)
		}
	})

	b.Run("plugin", func(b *testing.B) {
		provider, err := hub.daemon.Plugins().Provider("llm-openai")
		require.NoError(b, err)
		req := sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: benchQuestion}}}
		for b.Loop() {
			if _, err := provider.ChatModel.Chat(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("hub", func(b *testing.B) {
		client := &http.Client{}
		body, err := json.Marshal(map[string]any{"provider": "llm-openai", "messages": []any{map[string]string{"role": "user", "content": benchQuestion}}})
		require.NoError(b, err)
		header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + hub.token}}
		for b.Loop() {
			post(b, client, hub.server.URL+"/v1/chat", header.Clone(), body)
		}
	})
}
