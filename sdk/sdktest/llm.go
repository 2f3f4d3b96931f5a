package sdktest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// ChatCase is a conversation the chat model under test can continue.
type ChatCase struct {
	// Request is the conversation; it should ask for a reply of several
	// words, so that streaming yields more than one piece.
	Request sdk.ChatRequest
	// WantContent lists strings the reply must contain, compared without
	// regard to case. Empty for models whose reply cannot be predicted.
	WantContent []string
}

// Chat runs the conformance suite for sdk.ChatModel, and for
// sdk.ChatStreamer when the model implements it.
func Chat(t *testing.T, newModel func(t *testing.T) sdk.ChatModel, tc ChatCase) {
	require.NotEmpty(t, tc.Request.Messages, "the case needs a conversation")
	tests := []struct {
		name string
		run  func(t *testing.T, m sdk.ChatModel, tc ChatCase)
	}{
		{"Chat", chatCase},
		{"NoMessages", chatNoMessages},
		{"InvalidRole", chatInvalidRole},
		{"LargePayload", chatLarge},
		{"ConcurrentCalls", chatConcurrent},
		{"CancelledContext", chatCancelled},
		{"Stream", chatStream},
		{"StreamEmitError", chatStreamEmitError},
		{"StreamCancel", chatStreamCancel},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			m := newModel(t)
			require.NotNil(t, m, "the factory returned a nil model")
			test.run(t, m, tc)
		})
	}
}

func checkChatResponse(t *testing.T, resp *sdk.ChatResponse, tc ChatCase) {
	t.Helper()
	require.NotNil(t, resp)
	assert.Equal(t, sdk.RoleAssistant, resp.Message.Role, "reply role")
	assert.NotEmpty(t, strings.TrimSpace(resp.Message.Content), "reply content")
	for _, want := range tc.WantContent {
		assert.Contains(t, strings.ToLower(resp.Message.Content), strings.ToLower(want), "reply content")
	}
	if u := resp.Usage; u.TotalTokens != 0 {
		assert.Equal(t, u.PromptTokens+u.CompletionTokens, u.TotalTokens, "usage: total is prompt plus completion")
	}
}

func chatCase(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	resp, err := m.Chat(context.Background(), tc.Request)
	require.NoError(t, err)
	checkChatResponse(t, resp, tc)
}

func chatNoMessages(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	req := tc.Request
	req.Messages = nil
	_, err := m.Chat(context.Background(), req)
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func chatInvalidRole(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	req := tc.Request
	req.Messages = append([]sdk.ChatMessage{{Role: "narrator", Content: "once upon a time"}}, tc.Request.Messages...)
	_, err := m.Chat(context.Background(), req)
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func chatLarge(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	req := tc.Request
	big := strings.Repeat("lorem ipsum ", int(LargePayloadSize()/12))
	req.Messages = append([]sdk.ChatMessage{{Role: sdk.RoleUser, Content: big}}, tc.Request.Messages...)
	_, err := m.Chat(context.Background(), req)
	assert.True(t, acceptedLargeError(err), "a %d-byte conversation returned %v; want a reply, ErrInvalid or ErrTooLarge", len(big), err)
}

func chatConcurrent(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	var wg sync.WaitGroup
	results := make([]*sdk.ChatResponse, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = m.Chat(context.Background(), tc.Request) })
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i], "call %d", i)
		checkChatResponse(t, results[i], tc)
	}
}

func chatCancelled(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Chat(ctx, tc.Request)
	assert.True(t, isCancellation(err), "Chat with a cancelled context returned %v", err)
}

func chatStream(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	streamer, ok := m.(sdk.ChatStreamer)
	if !ok {
		t.Skip("the model does not implement sdk.ChatStreamer")
	}
	var pieces []string
	resp, err := streamer.ChatStream(context.Background(), tc.Request, func(d sdk.ChatDelta) error {
		pieces = append(pieces, d.Content)
		return nil
	})
	require.NoError(t, err)
	checkChatResponse(t, resp, tc)
	assert.Greater(t, len(pieces), 1, "the reply came in one piece; streaming should yield several")
	assert.Equal(t, resp.Message.Content, strings.Join(pieces, ""), "the pieces, joined in order, are the reply")
}

func chatStreamEmitError(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	streamer, ok := m.(sdk.ChatStreamer)
	if !ok {
		t.Skip("the model does not implement sdk.ChatStreamer")
	}
	calls := 0
	_, err := streamer.ChatStream(context.Background(), tc.Request, func(sdk.ChatDelta) error {
		calls++
		return errStopEmit
	})
	assert.ErrorIs(t, err, errStopEmit, "the error emit returned is returned")
	assert.Equal(t, 1, calls, "emit is not called after it returned an error")
}

// chatStreamCancel cancels the context from inside emit and expects the
// stream to end promptly: with the cancellation, or complete when the
// reply had already ended.
func chatStreamCancel(t *testing.T, m sdk.ChatModel, tc ChatCase) {
	streamer, ok := m.(sdk.ChatStreamer)
	if !ok {
		t.Skip("the model does not implement sdk.ChatStreamer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := returnsWithin(t, func() {}, 0, func() error {
		_, err := streamer.ChatStream(ctx, tc.Request, func(sdk.ChatDelta) error {
			cancel()
			return nil
		})
		return err
	})
	assert.True(t, err == nil || isCancellation(err), "ChatStream cancelled from emit returned %v", err)
	if err == nil {
		t.Log("the reply ended before the model saw the cancellation")
	}
	assert.False(t, errors.Is(err, errStopEmit))
}
