package openaichat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/sdk"
)

// maxStopSequences is the number of stop sequences the OpenAI API accepts.
const maxStopSequences = 4

// completionRequest is the body of POST /chat/completions.
type completionRequest struct {
	Model         string            `json:"model"`
	Messages      []sdk.ChatMessage `json:"messages"`
	Temperature   *float64          `json:"temperature,omitempty"`
	MaxTokens     int               `json:"max_tokens,omitempty"`
	Stop          []string          `json:"stop,omitempty"`
	Stream        bool              `json:"stream,omitempty"`
	StreamOptions *streamOptions    `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// completion is the body of a non-streamed response.
type completion struct {
	Model   string `json:"model"`
	Choices []struct {
		Message      sdk.ChatMessage `json:"message"`
		FinishReason string          `json:"finish_reason"`
	} `json:"choices"`
	Usage *sdk.Usage `json:"usage"`
}

// Chat sends the conversation and returns the whole reply.
func (m *Model) Chat(ctx context.Context, req sdk.ChatRequest) (*sdk.ChatResponse, error) {
	s, err := m.current()
	if err != nil {
		return nil, err
	}
	body, err := s.requestBody(req, false)
	if err != nil {
		return nil, err
	}

	resp, err := s.service.Client.Do(ctx, httpx.Request{
		Op: "chat", Method: http.MethodPost, Path: "chat/completions",
		Header: jsonHeader, Body: body,
	})
	if err != nil {
		return nil, err
	}

	var parsed completion
	if err := json.Unmarshal(resp.Body, &parsed); err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "chat: %s returned a body that is not a chat completion: %v", s.service.Client.Host(), err)
	}
	if len(parsed.Choices) == 0 {
		return nil, sdk.Upstreamf(sdk.CodeException, "chat: %s returned a completion without choices", s.service.Client.Host())
	}
	choice := parsed.Choices[0]
	out := &sdk.ChatResponse{
		Message:      sdk.ChatMessage{Role: sdk.RoleAssistant, Content: choice.Message.Content},
		Model:        parsed.Model,
		FinishReason: choice.FinishReason,
	}
	if parsed.Usage != nil {
		out.Usage = *parsed.Usage
	}
	return out, nil
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// requestBody checks the request and encodes it for the wire.
func (s *state) requestBody(req sdk.ChatRequest, stream bool) ([]byte, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	wire := completionRequest{
		Model:       req.Model,
		Messages:    req.Messages,
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
		Stop:        req.Stop,
		Stream:      stream,
	}
	if wire.Model == "" {
		wire.Model = s.cfg.Model
	}
	if stream && s.cfg.streamUsage() {
		wire.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("chat: encode request: %w", err)
	}
	if limit := s.cfg.maxRequestBytes(); len(body) > limit {
		return nil, sdk.Errorf(sdk.CodeTooLong, "chat: the conversation encodes to %d bytes, more than max_request_bytes (%d); shorten it or raise the limit", len(body), limit)
	}
	return body, nil
}

// checkRequest rejects requests the API would reject, with the JSON Pointer
// of the bad field, before any data leaves the machine.
func checkRequest(req sdk.ChatRequest) error {
	if len(req.Messages) == 0 {
		return sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Path: "/messages",
			Diagnostics: "chat: messages is empty; send at least one user message"})
	}
	for i, message := range req.Messages {
		switch message.Role {
		case sdk.RoleSystem, sdk.RoleUser, sdk.RoleAssistant:
		default:
			return sdk.Invalidf(fmt.Sprintf("/messages/%d/role", i), "chat: message %d has role %q; use %q, %q or %q", i, message.Role, sdk.RoleSystem, sdk.RoleUser, sdk.RoleAssistant)
		}
	}
	if t := req.Temperature; t != nil && (*t < 0 || *t > 2) {
		return sdk.Invalidf("/temperature", "chat: temperature is %g; use a value from 0 to 2", *t)
	}
	if req.MaxTokens < 0 {
		return sdk.Invalidf("/max_tokens", "chat: max_tokens is %d; use a positive count, or 0 for the model default", req.MaxTokens)
	}
	if len(req.Stop) > maxStopSequences {
		return sdk.Invalidf("/stop", "chat: %d stop sequences given; the API accepts at most %d", len(req.Stop), maxStopSequences)
	}
	return nil
}
