package openaichat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/sdk"
)

// chunk is one event of a streamed chat completion. Error is set when the
// server reports a failure in the middle of the stream.
type chunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *sdk.Usage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

var doneMarker = []byte("[DONE]")

// ChatStream sends the conversation with streaming on and calls emit for
// each content delta as its event arrives. It returns the whole reply once
// the server sends [DONE]. An error from emit closes the stream, which
// stops generation on the server, and is returned as is.
func (m *Model) ChatStream(ctx context.Context, req sdk.ChatRequest, emit func(sdk.ChatDelta) error) (*sdk.ChatResponse, error) {
	s, err := m.current()
	if err != nil {
		return nil, err
	}
	body, err := s.requestBody(req, true)
	if err != nil {
		return nil, err
	}

	resp, err := s.service.Client.Do(ctx, httpx.Request{
		Op: "chat stream", Method: http.MethodPost, Path: "chat/completions",
		Header: streamHeader, Body: body, Stream: true,
	})
	if err != nil {
		return nil, err
	}
	defer resp.Stream.Close()

	if mediaType := resp.Header.Get("Content-Type"); !strings.HasPrefix(mediaType, "text/event-stream") {
		return nil, sdk.Upstreamf(sdk.CodeException, "chat stream: %s responded with Content-Type %q, not text/event-stream; check that the server supports streaming", s.service.Client.Host(), mediaType)
	}
	return s.readStream(resp.Stream, emit)
}

var streamHeader = http.Header{"Content-Type": {"application/json"}, "Accept": {"text/event-stream"}}

// readStream decodes events until [DONE] and assembles the reply.
func (s *state) readStream(body io.Reader, emit func(sdk.ChatDelta) error) (*sdk.ChatResponse, error) {
	host := s.service.Client.Host()
	events := newEventReader(body)
	var content strings.Builder
	out := &sdk.ChatResponse{Message: sdk.ChatMessage{Role: sdk.RoleAssistant}}

	for {
		data, err := events.Next()
		if errors.Is(err, io.EOF) && out.FinishReason != "" {
			// Some servers close the stream after the finish reason
			// without [DONE]; the reply is complete all the same.
			break
		}
		if err != nil {
			return nil, streamReadError(host, err)
		}
		if bytes.Equal(data, doneMarker) {
			break
		}

		var parsed chunk
		if err := json.Unmarshal(data, &parsed); err != nil {
			return nil, sdk.Upstreamf(sdk.CodeException, "chat stream: %s sent an event that is not a JSON chunk: %v", host, err)
		}
		if len(parsed.Error) > 0 {
			message, _ := openaiapi.ParseError(0, []byte(`{"error":`+string(parsed.Error)+`}`))
			return nil, sdk.Upstreamf(sdk.CodeException, "chat stream: %s reported an error mid-stream: %s", host, message)
		}
		if err := s.applyChunk(parsed, out, &content, emit); err != nil {
			return nil, err
		}
	}

	out.Message.Content = content.String()
	return out, nil
}

// applyChunk adds one chunk to the reply and passes its content on.
func (s *state) applyChunk(parsed chunk, out *sdk.ChatResponse, content *strings.Builder, emit func(sdk.ChatDelta) error) error {
	if parsed.Model != "" {
		out.Model = parsed.Model
	}
	if parsed.Usage != nil {
		out.Usage = *parsed.Usage
	}
	if len(parsed.Choices) == 0 {
		return nil
	}
	choice := parsed.Choices[0]
	if choice.FinishReason != nil && *choice.FinishReason != "" {
		out.FinishReason = *choice.FinishReason
	}
	if choice.Delta.Content == "" {
		return nil
	}
	content.WriteString(choice.Delta.Content)
	return emit(sdk.ChatDelta{Content: choice.Delta.Content})
}

// streamReadError converts an error from reading the stream.
func streamReadError(host string, err error) error {
	var outcome *sdk.Outcome
	switch {
	case errors.As(err, &outcome):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, io.EOF):
		return sdk.Upstreamf(sdk.CodeTransient, "chat stream: %s closed the stream before the reply was complete", host)
	case errors.Is(err, errEventTooLarge):
		return sdk.Upstreamf(sdk.CodeTooLong, "chat stream: %s sent a %v", host, err)
	}
	return sdk.Upstreamf(sdk.CodeTransient, "chat stream: reading from %s failed: %v", host, err)
}
