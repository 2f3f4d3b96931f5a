package sdk_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// failingEHR returns the errors the test sets, to see them cross the wire.
type failingEHR struct{ err error }

func (f failingEHR) Read(context.Context, string, string) (json.RawMessage, error) { return nil, f.err }
func (f failingEHR) Search(context.Context, sdk.SearchRequest) (*sdk.SearchPage, error) {
	return nil, f.err
}
func (f failingEHR) Create(context.Context, json.RawMessage) (json.RawMessage, error) {
	return nil, f.err
}
func (f failingEHR) Update(context.Context, json.RawMessage, string) (json.RawMessage, error) {
	return nil, f.err
}

func loopback(t *testing.T, p sdk.Provider) sdk.Provider {
	t.Helper()
	remote, stop, err := sdk.ServeLoopback(context.Background(), p)
	require.NoError(t, err)
	t.Cleanup(stop)
	return remote
}

func TestOutcomeCrossesTheWire(t *testing.T) {
	sent := sdk.NewOutcome(
		sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeValue, Path: "/birthDate", Expression: "Patient.birthDate",
			Diagnostics: `"1974-13-01" is not a valid date`, Rule: "dt-1"},
		sdk.Issue{Severity: sdk.SeverityWarning, Code: sdk.CodeThrottled, Diagnostics: "vendor is slow", Source: sdk.SourceUpstream},
	)
	remote := loopback(t, sdk.Provider{Info: sdk.Info{Name: "failing", Version: "1", Kinds: []sdk.Kind{sdk.KindEHR}}, EHR: failingEHR{err: sent}})

	_, err := remote.EHR.Create(context.Background(), json.RawMessage(`{}`))
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrInvalid)

	var got *sdk.Outcome
	require.ErrorAs(t, err, &got)
	want := sent.WithSource(sdk.SourcePlugin)
	assert.Equal(t, want.Issues, got.Issues, "every field survives, and only issues without a source are marked plugin")
}

func TestPlainErrorsCrossTheWire(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		sentinel error
	}{
		{"not found", sdk.NotFoundf("Patient/1 not found"), sdk.ErrNotFound},
		{"wrapped sentinel", io.ErrUnexpectedEOF, nil},
		{"conflict sentinel", sdk.ErrConflict, sdk.ErrConflict},
		{"deadline", context.DeadlineExceeded, sdk.ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			remote := loopback(t, sdk.Provider{Info: sdk.Info{Name: "failing", Version: "1", Kinds: []sdk.Kind{sdk.KindEHR}}, EHR: failingEHR{err: tc.err}})
			_, err := remote.EHR.Read(context.Background(), "Patient", "1")
			require.Error(t, err)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			assert.Contains(t, err.Error(), tc.err.Error(), "the message survives")
			var got *sdk.Outcome
			require.ErrorAs(t, err, &got)
			assert.Equal(t, sdk.SourcePlugin, got.Issues[0].Source)
		})
	}
}

// streamingChat implements ChatModel and ChatStreamer.
type streamingChat struct{}

func (streamingChat) Chat(context.Context, sdk.ChatRequest) (*sdk.ChatResponse, error) {
	return &sdk.ChatResponse{Message: sdk.ChatMessage{Role: sdk.RoleAssistant, Content: "hi"}}, nil
}

func (streamingChat) ChatStream(_ context.Context, _ sdk.ChatRequest, emit func(sdk.ChatDelta) error) (*sdk.ChatResponse, error) {
	if err := emit(sdk.ChatDelta{Content: "hi"}); err != nil {
		return nil, err
	}
	return &sdk.ChatResponse{Message: sdk.ChatMessage{Role: sdk.RoleAssistant, Content: "hi"}}, nil
}

func TestRemoteCapabilitiesFollowInfo(t *testing.T) {
	info := sdk.Info{Name: "chat", Version: "1", Kinds: []sdk.Kind{sdk.KindLLM}}
	plain := loopback(t, sdk.Provider{Info: info, ChatModel: streamingChat{}})
	_, ok := plain.ChatModel.(sdk.ChatStreamer)
	assert.False(t, ok, "a plugin that does not declare stream is no ChatStreamer on the host side")

	info.Capabilities = []string{sdk.CapabilityStream}
	streaming := loopback(t, sdk.Provider{Info: info, ChatModel: streamingChat{}})
	streamer, ok := streaming.ChatModel.(sdk.ChatStreamer)
	require.True(t, ok)
	resp, err := streamer.ChatStream(context.Background(), sdk.ChatRequest{}, func(sdk.ChatDelta) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, "hi", resp.Message.Content)

	_, isConfigurer := streaming.ChatModel.(sdk.Configurer)
	_, isChecker := streaming.ChatModel.(sdk.HealthChecker)
	assert.True(t, isConfigurer && isChecker, "remote implementations carry the meta interfaces")
}

func TestInterceptKeepsCapabilitiesAndSeesEveryCall(t *testing.T) {
	var calls []string
	p := sdk.Intercept(sdk.Provider{Info: sdk.Info{Name: "chat", Version: "1", Kinds: []sdk.Kind{sdk.KindLLM}}, ChatModel: streamingChat{}},
		func(ctx context.Context, call sdk.Call) (context.Context, func(error) error, error) {
			return ctx, func(err error) error {
				calls = append(calls, call.Provider+" "+string(call.Kind)+"."+call.Method)
				return err
			}, nil
		})
	streamer, ok := p.ChatModel.(sdk.ChatStreamer)
	require.True(t, ok, "an intercepted ChatStreamer is still one")

	_, err := p.ChatModel.Chat(context.Background(), sdk.ChatRequest{})
	require.NoError(t, err)
	_, err = streamer.ChatStream(context.Background(), sdk.ChatRequest{}, func(sdk.ChatDelta) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"chat llm.Chat", "chat llm.ChatStream"}, calls)
}

func TestInterceptCanRejectAndReplaceErrors(t *testing.T) {
	refused := sdk.Errorf(sdk.CodeForbidden, "policy denies chat")
	p := sdk.Intercept(sdk.Provider{Info: sdk.Info{Name: "chat", Version: "1", Kinds: []sdk.Kind{sdk.KindLLM}}, ChatModel: streamingChat{}},
		func(ctx context.Context, call sdk.Call) (context.Context, func(error) error, error) {
			return nil, nil, refused
		})
	_, err := p.ChatModel.Chat(context.Background(), sdk.ChatRequest{})
	assert.ErrorIs(t, err, sdk.ErrForbidden)
}

func TestConfigureWithoutConfigurer(t *testing.T) {
	p := sdk.Provider{Info: sdk.Info{Name: "chat", Version: "1", Kinds: []sdk.Kind{sdk.KindLLM}}, ChatModel: streamingChat{}}
	for _, empty := range []string{"", "null", "{}", " { } "} {
		assert.NoError(t, p.Configure(context.Background(), json.RawMessage(empty)), "config %q", empty)
	}
	err := p.Configure(context.Background(), json.RawMessage(`{"model":"x"}`))
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.True(t, strings.Contains(err.Error(), "takes no configuration"))
}

// fixedTranscriber returns the same transcript for every request and emits
// its segments when streaming.
type fixedTranscriber struct{ out *sdk.Transcript }

func (f fixedTranscriber) Transcribe(_ context.Context, req sdk.TranscriptionRequest) (*sdk.Transcript, error) {
	if _, err := io.Copy(io.Discard, req.Audio); err != nil {
		return nil, err
	}
	return f.out, nil
}

func (f fixedTranscriber) TranscribeStream(ctx context.Context, req sdk.TranscriptionRequest, emit func(sdk.Segment) error) (*sdk.Transcript, error) {
	out, err := f.Transcribe(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, s := range out.Segments {
		if err := emit(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func TestTranscriptWordsCrossTheWire(t *testing.T) {
	sent := &sdk.Transcript{
		Text:     "ten of clubs",
		Language: "en-US",
		Duration: 2 * time.Second,
		Model:    "en-us",
		Segments: []sdk.Segment{{
			Start: 160 * time.Millisecond, End: 970 * time.Millisecond, Text: "ten of clubs", Confidence: 0.49,
			Words: []sdk.Word{
				{Start: 160 * time.Millisecond, End: 330 * time.Millisecond, Text: "ten", Confidence: 0.028},
				{Start: 340 * time.Millisecond, End: 450 * time.Millisecond, Text: "of", Confidence: 0.387},
				{Start: 460 * time.Millisecond, End: 970 * time.Millisecond, Text: "clubs", Confidence: 0.052},
			},
		}},
	}
	remote := loopback(t, sdk.Provider{
		Info:        sdk.Info{Name: "fixed", Version: "1", Kinds: []sdk.Kind{sdk.KindTranscription}, Capabilities: []string{sdk.CapabilityStream}},
		Transcriber: fixedTranscriber{out: sent},
	})

	got, err := remote.Transcriber.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: strings.NewReader("RIFF"), ContentType: "audio/wav"})
	require.NoError(t, err)
	assert.Equal(t, sent, got)

	streamer, ok := remote.Transcriber.(sdk.StreamingTranscriber)
	require.True(t, ok, "the remote streams because the plugin declares the capability")
	var emitted []sdk.Segment
	_, err = streamer.TranscribeStream(context.Background(), sdk.TranscriptionRequest{Audio: strings.NewReader("RIFF"), ContentType: "audio/wav"},
		func(s sdk.Segment) error { emitted = append(emitted, s); return nil })
	require.NoError(t, err)
	assert.Equal(t, sent.Segments, emitted)
}
