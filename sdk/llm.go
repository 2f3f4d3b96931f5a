package sdk

import "context"

// Chat message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// ChatMessage is one message of a conversation.
type ChatMessage struct {
	// Role is RoleSystem, RoleUser or RoleAssistant.
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is a conversation to continue.
type ChatRequest struct {
	// Model selects a model. Empty means the provider's configured default.
	Model    string        `json:"model,omitempty"`
	Messages []ChatMessage `json:"messages"`
	// Temperature is the sampling temperature; nil means the model default.
	Temperature *float64 `json:"temperature,omitempty"`
	// MaxTokens caps the reply length in tokens; 0 means the model default.
	MaxTokens int `json:"max_tokens,omitempty"`
	// Stop lists sequences at which the model stops generating.
	Stop []string `json:"stop,omitempty"`
}

// ChatResponse is a model's reply.
type ChatResponse struct {
	Message ChatMessage `json:"message"`
	// Model is the model that answered, as the upstream service names it.
	Model string `json:"model,omitempty"`
	// FinishReason is why generation stopped, such as "stop" or "length".
	FinishReason string `json:"finish_reason,omitempty"`
	Usage        Usage  `json:"usage"`
}

// Usage counts the tokens a call consumed; zero when the provider does not
// report them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatDelta is a piece of a reply as it is generated.
type ChatDelta struct {
	Content string `json:"content"`
}

// ChatModel answers conversations: the provider kind "llm".
type ChatModel interface {
	Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error)
}

// ChatStreamer is implemented by chat models that stream (capability
// "stream"). ChatStream calls emit for each piece of the reply as the
// upstream produces it and returns the whole reply at the end. An error
// from emit stops generation and is returned.
type ChatStreamer interface {
	ChatStream(ctx context.Context, req ChatRequest, emit func(ChatDelta) error) (*ChatResponse, error)
}
