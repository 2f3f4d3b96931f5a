// Package openaiapi is the part of the OpenAI-compatible REST protocol that
// the llm-openai and transcription-openai plugins share: the connection
// settings, the bearer key, the error body format, and the model list used
// for health checks.
//
// "OpenAI-compatible" means the hosted OpenAI API and servers that copy its
// routes under a /v1 base URL, such as Ollama, vLLM and self-hosted Whisper
// servers.
package openaiapi
