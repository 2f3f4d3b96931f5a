// Package openaichat is the llm provider "llm-openai": chat completions
// through the OpenAI-compatible REST API (POST /v1/chat/completions), which
// the hosted OpenAI API and local servers such as Ollama and vLLM speak.
//
// Chat sends one request and returns the whole reply. ChatStream sets
// "stream": true and decodes the server-sent events as they arrive, calling
// emit once per content delta, so the first words reach the caller while
// the model is still generating. Chat completion requests are POSTs and are
// never retried; GET /v1/models, used by CheckHealth, is.
//
// Prompts and replies are never logged.
package openaichat
