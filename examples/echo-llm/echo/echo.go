// Package echo is a minimal chat model that replies with the last user
// message, word by word when streaming. It shows how a vendor writes a
// provider: validate input into *sdk.Outcome errors with JSON Pointer
// paths, honour the context, declare data use, take configuration.
package echo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// Version is the echo model's version.
const Version = "1.0.0"

// Info describes the echo provider: it streams, and no data leaves the
// machine.
func Info() sdk.Info {
	return sdk.Info{
		Name:         "echo-llm",
		Version:      Version,
		Kinds:        []sdk.Kind{sdk.KindLLM},
		Capabilities: []string{sdk.CapabilityStream},
		DataUse:      sdk.DataUse{Egress: false, RetentionDays: 0},
	}
}

// Config is the echo model's configuration object.
type Config struct {
	// Prefix starts every reply. Default: "echo: ".
	Prefix *string `json:"prefix,omitempty"`
	// WordDelay is the pause between streamed words, in milliseconds,
	// to imitate a model generating. Default: 0.
	WordDelay int `json:"word_delay_ms,omitempty"`
}

// Model is the echo chat model. It implements sdk.ChatModel,
// sdk.ChatStreamer and sdk.Configurer and is safe for concurrent use.
type Model struct {
	mu     sync.RWMutex
	prefix string
	delay  time.Duration
}

var (
	_ sdk.ChatModel    = (*Model)(nil)
	_ sdk.ChatStreamer = (*Model)(nil)
	_ sdk.Configurer   = (*Model)(nil)
)

// New returns a model with the default configuration.
func New() *Model {
	return &Model{prefix: "echo: "}
}

// Configure applies a Config given as JSON; null or {} keeps the defaults.
func (m *Model) Configure(_ context.Context, raw json.RawMessage) error {
	var cfg Config
	if len(bytes.TrimSpace(raw)) > 0 {
		decoder := json.NewDecoder(bytes.NewReader(raw))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&cfg); err != nil {
			return sdk.Invalidf("", "configure echo-llm: %v", err)
		}
	}
	if cfg.WordDelay < 0 {
		return sdk.Invalidf("/word_delay_ms", "configure echo-llm: word_delay_ms is %d; use 0 or more", cfg.WordDelay)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prefix = "echo: "
	if cfg.Prefix != nil {
		m.prefix = *cfg.Prefix
	}
	m.delay = time.Duration(cfg.WordDelay) * time.Millisecond
	return nil
}

// Chat replies with the configured prefix and the last user message.
func (m *Model) Chat(ctx context.Context, req sdk.ChatRequest) (*sdk.ChatResponse, error) {
	return m.ChatStream(ctx, req, func(sdk.ChatDelta) error { return nil })
}

// ChatStream emits the reply word by word, checking ctx between words.
func (m *Model) ChatStream(ctx context.Context, req sdk.ChatRequest, emit func(sdk.ChatDelta) error) (*sdk.ChatResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	question, err := lastUserMessage(req)
	if err != nil {
		return nil, err
	}
	m.mu.RLock()
	reply, delay := m.prefix+question, m.delay
	m.mu.RUnlock()

	for _, piece := range strings.SplitAfter(reply, " ") {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := emit(sdk.ChatDelta{Content: piece}); err != nil {
			return nil, err
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	prompt, completion := countTokens(req), estimateTokens(reply)
	return &sdk.ChatResponse{
		Message:      sdk.ChatMessage{Role: sdk.RoleAssistant, Content: reply},
		Model:        "echo",
		FinishReason: "stop",
		Usage:        sdk.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion},
	}, nil
}

// lastUserMessage checks the conversation and returns what to echo.
func lastUserMessage(req sdk.ChatRequest) (string, error) {
	if len(req.Messages) == 0 {
		return "", sdk.Invalidf("/messages", "chat: messages is empty; send at least one user message")
	}
	for i, msg := range req.Messages {
		switch msg.Role {
		case sdk.RoleSystem, sdk.RoleUser, sdk.RoleAssistant:
		default:
			return "", sdk.Invalidf(fmt.Sprintf("/messages/%d/role", i), "chat: role %q is invalid; use system, user or assistant", msg.Role)
		}
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Role != sdk.RoleUser {
		return "", sdk.Invalidf(fmt.Sprintf("/messages/%d/role", len(req.Messages)-1), "chat: the last message is from %q; end the conversation with a user message", last.Role)
	}
	return last.Content, nil
}

// countTokens estimates the tokens of every message.
func countTokens(req sdk.ChatRequest) int {
	n := 0
	for _, msg := range req.Messages {
		n += estimateTokens(msg.Content)
	}
	return n
}

// estimateTokens estimates the token count of s as one token per four
// bytes, the usual rule of thumb for English text with GPT-style
// tokenizers. The echo model has no tokenizer, and counting in constant
// time keeps multi-megabyte benchmark messages cheap.
func estimateTokens(s string) int {
	return (len(s) + 3) / 4
}
