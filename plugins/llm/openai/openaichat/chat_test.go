package openaichat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/plugins/internal/openaitest"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

const (
	testKey   = "sk-test-3f9a"
	testModel = "llama3.2"
)

func startServer(t *testing.T) *openaitest.Server {
	t.Helper()
	server := openaitest.New(testKey, testModel, "gpt-4o-mini")
	t.Cleanup(server.Close)
	return server
}

func testConfig(server *openaitest.Server) Config {
	return Config{
		Connection: openaiapi.Connection{Endpoint: server.BaseURL(), APIKey: testKey},
		Model:      testModel,
	}
}

func openModel(t *testing.T, cfg Config, logger *slog.Logger) *Model {
	t.Helper()
	m, err := Open(cfg, logger)
	require.NoError(t, err)
	return m
}

func userRequest(text string) sdk.ChatRequest {
	return sdk.ChatRequest{Messages: []sdk.ChatMessage{
		{Role: sdk.RoleSystem, Content: "You are a terse clinical assistant."},
		{Role: sdk.RoleUser, Content: text},
	}}
}

func issueOf(t *testing.T, err error) sdk.Issue {
	t.Helper()
	var outcome *sdk.Outcome
	require.ErrorAs(t, err, &outcome)
	require.NotEmpty(t, outcome.Issues)
	return outcome.Issues[0]
}

func TestChatReturnsReply(t *testing.T) {
	server := startServer(t)
	m := openModel(t, testConfig(server), nil)
	temperature := 0.2
	req := userRequest("summarise the last visit")
	req.Temperature = &temperature
	req.Stop = []string{"###"}

	resp, err := m.Chat(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "You said: summarise the last visit", resp.Message.Content)
	assert.Equal(t, sdk.RoleAssistant, resp.Message.Role)
	assert.Equal(t, testModel, resp.Model)
	assert.Equal(t, "stop", resp.FinishReason)
	assert.Equal(t, 6, resp.Usage.CompletionTokens)
	assert.Equal(t, resp.Usage.PromptTokens+6, resp.Usage.TotalTokens)

	sent := server.LastChat()
	require.NotNil(t, sent)
	assert.Equal(t, testModel, sent.Model, "the configured model is used when the request names none")
	require.NotNil(t, sent.Temperature)
	assert.InDelta(t, 0.2, *sent.Temperature, 1e-9)
	assert.Equal(t, []string{"###"}, sent.Stop)
	assert.False(t, sent.Stream)
	assert.Len(t, sent.Messages, 2)
}

func TestChatMaxTokensCutsReply(t *testing.T) {
	server := startServer(t)
	m := openModel(t, testConfig(server), nil)
	req := userRequest("one two three four five six")
	req.MaxTokens = 3
	req.Model = "gpt-4o-mini"

	resp, err := m.Chat(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "You said: one", resp.Message.Content)
	assert.Equal(t, "length", resp.FinishReason)
	assert.Equal(t, "gpt-4o-mini", server.LastChat().Model)
}

func TestChatUpstreamErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(Config) Config
		req      sdk.ChatRequest
		sentinel error
		message  string
	}{
		{"wrong key", func(c Config) Config { c.APIKey = "sk-wrong"; return c }, userRequest("hi"), sdk.ErrForbidden, "Incorrect API key"},
		{"unknown model", func(c Config) Config { c.Model = "no-such-model"; return c }, userRequest("hi"), sdk.ErrNotFound, "`no-such-model` does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			m := openModel(t, tc.cfg(testConfig(server)), nil)

			_, err := m.Chat(context.Background(), tc.req)
			assert.ErrorIs(t, err, tc.sentinel)
			issue := issueOf(t, err)
			assert.Contains(t, issue.Diagnostics, tc.message)
			assert.Equal(t, sdk.SourceUpstream, issue.Source)
		})
	}
}

func TestChatRejectsBadRequestLocally(t *testing.T) {
	bad := 3.5
	tests := []struct {
		name string
		req  sdk.ChatRequest
		path string
	}{
		{"no messages", sdk.ChatRequest{}, "/messages"},
		{"bad role", sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: "a"}, {Role: "robot", Content: "b"}}}, "/messages/1/role"},
		{"temperature", sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: "a"}}, Temperature: &bad}, "/temperature"},
		{"max tokens", sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: "a"}}, MaxTokens: -1}, "/max_tokens"},
		{"stop", sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: "a"}}, Stop: []string{"a", "b", "c", "d", "e"}}, "/stop"},
		{"too large", sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: strings.Repeat("a", DefaultMaxRequestBytes)}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			m := openModel(t, testConfig(server), nil)

			_, err := m.Chat(context.Background(), tc.req)
			if tc.name == "too large" {
				assert.ErrorIs(t, err, sdk.ErrTooLarge)
			} else {
				assert.ErrorIs(t, err, sdk.ErrInvalid)
			}
			assert.Equal(t, tc.path, issueOf(t, err).Path)
			assert.Zero(t, server.Calls("/v1/chat/completions"), "nothing is sent for a request the API would reject")
		})
	}
}

func TestChatPostNotReplayed(t *testing.T) {
	tests := []struct {
		name    string
		failure openaitest.Failure
	}{
		{"503", openaitest.Failure{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}, Body: `{"error":{"message":"overloaded"}}`}},
		{"429", openaitest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}, Body: `{"error":{"message":"Rate limit reached"}}`}},
		{"connection reset", openaitest.Failure{Reset: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			server.Fail("/v1/chat/completions", tc.failure)
			retries := 3
			cfg := testConfig(server)
			cfg.MaxRetries = &retries
			m := openModel(t, cfg, nil)

			_, err := m.Chat(context.Background(), userRequest("hi"))
			assert.ErrorIs(t, err, sdk.ErrUnavailable)
			assert.Equal(t, 1, server.Calls("/v1/chat/completions"))
		})
	}
}

func TestChatStreamDeliversTokensBeforeEnd(t *testing.T) {
	server := startServer(t)
	server.Hold = make(chan struct{})
	m := openModel(t, testConfig(server), nil)

	deltas := make(chan string, 16)
	type result struct {
		resp *sdk.ChatResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := m.ChatStream(context.Background(), userRequest("check the potassium level"), func(d sdk.ChatDelta) error {
			deltas <- d.Content
			return nil
		})
		done <- result{resp, err}
	}()

	// The server holds back the last token until Hold is closed, so every
	// delta read here arrived while the server had not finished.
	var early []string
	for _, want := range []string{"You", " said:", " check", " the", " potassium"} {
		select {
		case got := <-deltas:
			assert.Equal(t, want, got)
			early = append(early, got)
		case r := <-done:
			t.Fatalf("stream ended before the held token was released: %v", r.err)
		case <-time.After(10 * time.Second):
			t.Fatal("no delta arrived while the server held the last token")
		}
	}
	select {
	case r := <-done:
		t.Fatalf("ChatStream returned before the server wrote the last token: %v", r.err)
	default:
	}
	close(server.Hold)

	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, " level", <-deltas)
	assert.Len(t, early, 5)
	assert.Equal(t, "You said: check the potassium level", r.resp.Message.Content)
	assert.Equal(t, "stop", r.resp.FinishReason)
	assert.Equal(t, 6, r.resp.Usage.CompletionTokens)
	assert.Equal(t, testModel, r.resp.Model)

	sent := server.LastChat()
	assert.True(t, sent.Stream)
	require.NotNil(t, sent.StreamOptions)
	assert.True(t, sent.StreamOptions.IncludeUsage)
}

func TestChatStreamWithoutUsageOption(t *testing.T) {
	server := startServer(t)
	cfg := testConfig(server)
	off := false
	cfg.StreamUsage = &off
	m := openModel(t, cfg, nil)

	resp, err := m.ChatStream(context.Background(), userRequest("hello"), func(sdk.ChatDelta) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, "You said: hello", resp.Message.Content)
	assert.Nil(t, server.LastChat().StreamOptions)
	assert.Zero(t, resp.Usage.TotalTokens, "no usage chunk was requested")
}

func TestChatStreamEmitErrorStops(t *testing.T) {
	server := startServer(t)
	server.Hold = make(chan struct{})
	defer close(server.Hold)
	m := openModel(t, testConfig(server), nil)
	errClientGone := errors.New("client went away")

	calls := 0
	_, err := m.ChatStream(context.Background(), userRequest("a b c"), func(sdk.ChatDelta) error {
		calls++
		return errClientGone
	})
	assert.ErrorIs(t, err, errClientGone)
	assert.Equal(t, 1, calls)
}

func TestChatStreamIdleTimeout(t *testing.T) {
	server := startServer(t)
	server.Hold = make(chan struct{})
	defer close(server.Hold)
	cfg := testConfig(server)
	cfg.StreamIdleTimeout = settings.Duration(100 * time.Millisecond)
	m := openModel(t, cfg, nil)

	var got []string
	_, err := m.ChatStream(context.Background(), userRequest("a b"), func(d sdk.ChatDelta) error {
		got = append(got, d.Content)
		return nil
	})
	assert.ErrorIs(t, err, sdk.ErrTimeout)
	assert.Equal(t, []string{"You", " said:", " a"}, got)
}

func TestChatStreamCallerCancel(t *testing.T) {
	server := startServer(t)
	server.Hold = make(chan struct{})
	defer close(server.Hold)
	m := openModel(t, testConfig(server), nil)

	ctx, cancel := context.WithCancel(context.Background())
	_, err := m.ChatStream(ctx, userRequest("a b"), func(d sdk.ChatDelta) error {
		if d.Content == " a" {
			cancel()
		}
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestChatStreamMidStreamError(t *testing.T) {
	server := startServer(t)
	body := "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
		"data: {\"error\":{\"message\":\"model crashed\",\"type\":\"server_error\"}}\n\n"
	server.Fail("/v1/chat/completions", openaitest.Failure{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: body})
	m := openModel(t, testConfig(server), nil)

	_, err := m.ChatStream(context.Background(), userRequest("hi"), func(sdk.ChatDelta) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model crashed")
	assert.Equal(t, sdk.SourceUpstream, issueOf(t, err).Source)
}

func TestChatStreamCutOff(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"before finish", "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n", true},
		{"after finish without done", "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			server.Fail("/v1/chat/completions", openaitest.Failure{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: tc.body})
			m := openModel(t, testConfig(server), nil)

			resp, err := m.ChatStream(context.Background(), userRequest("hi"), func(sdk.ChatDelta) error { return nil })
			if tc.wantErr {
				assert.ErrorIs(t, err, sdk.ErrUnavailable)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Hi", resp.Message.Content)
		})
	}
}

func TestChatStreamRejectsNonEventStream(t *testing.T) {
	server := startServer(t)
	server.Fail("/v1/chat/completions", openaitest.Failure{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{}`})
	m := openModel(t, testConfig(server), nil)

	_, err := m.ChatStream(context.Background(), userRequest("hi"), func(sdk.ChatDelta) error { return nil })
	assert.ErrorContains(t, err, "not text/event-stream")
}

func TestCheckHealth(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(Config) Config
		sentinel error
	}{
		{"healthy", func(c Config) Config { return c }, nil},
		{"model not served", func(c Config) Config { c.Model = "mistral"; return c }, sdk.ErrNotFound},
		{"wrong key", func(c Config) Config { c.APIKey = "sk-wrong"; return c }, sdk.ErrForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			m := openModel(t, tc.cfg(testConfig(server)), nil)

			err := m.CheckHealth(context.Background())
			if tc.sentinel == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.sentinel)
		})
	}
}

func TestCheckHealthRetriesThrottledGet(t *testing.T) {
	server := startServer(t)
	server.Fail("/v1/models", openaitest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}})
	m := openModel(t, testConfig(server), nil)

	require.NoError(t, m.CheckHealth(context.Background()))
	assert.Equal(t, 2, server.Calls("/v1/models"))
}

func TestDataUse(t *testing.T) {
	retention := 30
	remote := Config{
		Connection: openaiapi.Connection{
			Endpoint: "https://api.openai.com/v1",
			DataUse:  settings.DataUse{Region: "us", BAA: true, RetentionDays: &retention},
		},
		Model: "gpt-4o-mini",
	}
	m := openModel(t, remote, nil)
	declared := m.DataUse()
	assert.True(t, declared.Egress)
	assert.Equal(t, []string{"api.openai.com"}, declared.Hosts)
	assert.Equal(t, "us", declared.Region)
	assert.True(t, declared.BAA)
	assert.Equal(t, 30, declared.RetentionDays)

	local := openModel(t, Config{Connection: openaiapi.Connection{Endpoint: "http://127.0.0.1:11434/v1"}, Model: "llama3.2"}, nil)
	assert.False(t, local.DataUse().Egress)

	unconfigured := New(nil)
	assert.True(t, unconfigured.DataUse().Egress, "before Configure the declaration is cautious")
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		path string
	}{
		{"null", `null`, "/endpoint"},
		{"missing model", `{"endpoint":"http://127.0.0.1:1/v1"}`, "/model"},
		{"unknown setting", `{"endpoint":"http://127.0.0.1:1/v1","model":"m","temprature":1}`, ""},
		{"remote http", `{"endpoint":"http://gpu-box:8000/v1","model":"m"}`, "/endpoint"},
		{"bad retries", `{"endpoint":"http://127.0.0.1:1/v1","model":"m","max_retries":-1}`, "/max_retries"},
		{"bad retention", `{"endpoint":"http://127.0.0.1:1/v1","model":"m","data_use":{"retention_days":-3}}`, "/data_use/retention_days"},
		{"both keys", `{"endpoint":"http://127.0.0.1:1/v1","model":"m","api_key":"a","api_key_file":"/x"}`, "/api_key_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(nil)
			err := m.Configure(context.Background(), json.RawMessage(tc.raw))
			require.Error(t, err)
			assert.Equal(t, tc.path, issueOf(t, err).Path)
		})
	}

	m := New(nil)
	_, err := m.Chat(context.Background(), userRequest("hi"))
	assert.ErrorContains(t, err, "not configured")

	server := startServer(t)
	raw := `{"endpoint":"` + server.BaseURL() + `","api_key":"` + testKey + `","model":"` + testModel + `","timeout":"5s","stream_idle_timeout":"2s"}`
	require.NoError(t, m.Configure(context.Background(), json.RawMessage(raw)))
	_, err = m.Chat(context.Background(), userRequest("hi"))
	assert.NoError(t, err)
}

func TestLogsCarryNoPromptOrKey(t *testing.T) {
	server := startServer(t)
	server.Fail("/v1/models", openaitest.Failure{Status: http.StatusServiceUnavailable})
	server.Fail("/v1/chat/completions", openaitest.Failure{Status: http.StatusServiceUnavailable, Body: `{"error":{"message":"busy"}}`})
	var logs bytes.Buffer
	m := openModel(t, testConfig(server), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	prompt := "Patient Henrietta Okonkwo-Vance, MRN 88-1234"

	require.NoError(t, m.CheckHealth(context.Background()))
	_, err := m.Chat(context.Background(), userRequest(prompt))
	require.Error(t, err)
	_, err = m.ChatStream(context.Background(), userRequest(prompt), func(sdk.ChatDelta) error { return nil })
	require.NoError(t, err)

	assert.Contains(t, logs.String(), "retrying upstream call", "the health check retry is logged")
	assert.NotContains(t, logs.String(), "Okonkwo")
	assert.NotContains(t, logs.String(), testKey)
}
