package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ChatRequest is the body of POST /v1/chat/completions, with the fields the
// server checks.
type ChatRequest struct {
	Model    string        `json:"model"`
	Messages []ChatMessage `json:"messages"`
	// Temperature is nil when the request left it out.
	Temperature *float64 `json:"temperature,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Stream      bool     `json:"stream,omitempty"`
	// StreamOptions is {"include_usage": true} when the client asks for a
	// usage chunk at the end of a stream.
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options,omitempty"`
}

// ChatMessage is one message of a chat request.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// reply is a generated reply, split into the tokens a stream sends.
type reply struct {
	tokens       []string
	finishReason string
	usage        usage
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var req ChatRequest
	decoder := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
	if err := decoder.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	if message := s.checkChat(req); message != "" {
		code := ""
		status := http.StatusBadRequest
		if strings.HasPrefix(message, "The model") {
			code, status = "model_not_found", http.StatusNotFound
		}
		writeError(w, status, "invalid_request_error", code, message)
		return
	}

	s.mu.Lock()
	s.lastChat = &req
	s.mu.Unlock()

	generated := s.generate(req)
	if req.Stream {
		s.streamChat(w, r, req, generated)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      "chatcmpl-test",
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   req.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": strings.Join(generated.tokens, "")},
			"finish_reason": generated.finishReason,
		}},
		"usage": generated.usage,
	})
}

func (s *Server) checkChat(req ChatRequest) string {
	if req.Model == "" {
		return "you must provide a model parameter"
	}
	if !s.knownModel(req.Model) {
		return fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model)
	}
	if len(req.Messages) == 0 {
		return "[] is too short - 'messages'"
	}
	for i, message := range req.Messages {
		switch message.Role {
		case "system", "user", "assistant", "developer", "tool":
		default:
			return fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'. - 'messages.%d.role'", message.Role, i)
		}
	}
	return ""
}

// generate builds the reply with Reply, cut at the first stop sequence and
// at MaxTokens tokens. A token is a word with its leading space.
func (s *Server) generate(req ChatRequest) reply {
	text := s.replyText(req)
	finish := "stop"
	for _, stop := range req.Stop {
		if i := strings.Index(text, stop); stop != "" && i >= 0 {
			text = text[:i]
		}
	}

	var tokens []string
	for i, word := range words(text) {
		if i > 0 {
			word = " " + word
		}
		tokens = append(tokens, word)
	}
	if req.MaxTokens > 0 && len(tokens) > req.MaxTokens {
		tokens, finish = tokens[:req.MaxTokens], "length"
	}

	prompt := 0
	for _, message := range req.Messages {
		prompt += len(words(message.Content)) + 1
	}
	return reply{
		tokens:       tokens,
		finishReason: finish,
		usage:        usage{PromptTokens: prompt, CompletionTokens: len(tokens), TotalTokens: prompt + len(tokens)},
	}
}

func (s *Server) replyText(req ChatRequest) string {
	if s.Reply != nil {
		return s.Reply(req)
	}
	last := ""
	for _, message := range req.Messages {
		if message.Role == "user" {
			last = message.Content
		}
	}
	return "You said: " + last
}

// streamChat writes the reply as server-sent events: a role chunk, one
// chunk per token, a chunk with the finish reason, a usage chunk when the
// request asked for one, and the [DONE] marker.
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, req ChatRequest, generated reply) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher := http.NewResponseController(w)

	created := time.Now().Unix()
	send := func(choices []any, extra map[string]any) {
		chunk := map[string]any{"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": created, "model": req.Model, "choices": choices}
		for key, value := range extra {
			chunk[key] = value
		}
		data, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", data)
		flusher.Flush()
	}
	delta := func(content map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": content, "finish_reason": finish}}
	}

	send(delta(map[string]any{"role": "assistant", "content": ""}, nil), nil)
	// A comment line, which clients must ignore.
	fmt.Fprint(w, ": keep-alive\n\n")
	for i, token := range generated.tokens {
		if i == len(generated.tokens)-1 && !s.waitHold(r) {
			return
		}
		send(delta(map[string]any{"content": token}, nil), nil)
	}
	send(delta(map[string]any{}, generated.finishReason), nil)
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		send([]any{}, map[string]any{"usage": generated.usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

// waitHold blocks on Hold when it is set. It returns false when the client
// went away first.
func (s *Server) waitHold(r *http.Request) bool {
	if s.Hold == nil {
		return true
	}
	select {
	case <-s.Hold:
		return true
	case <-r.Context().Done():
		return false
	}
}
