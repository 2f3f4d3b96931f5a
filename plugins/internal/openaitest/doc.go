// Package openaitest is a loopback server that speaks the OpenAI-compatible
// REST protocol, for testing the llm-openai and transcription-openai plugins
// and for benchmarks that compare them with direct calls.
//
// It serves GET /v1/models and POST /v1/chat/completions, which returns
// JSON, or server-sent events when the request sets "stream": true. It also
// serves POST /v1/audio/transcriptions, a multipart upload with a response in the
// json, text or verbose_json format. Requests are checked the way the hosted API checks them:
// bearer key, known model, message roles, multipart fields, and a WAV file
// whose header is valid.
//
// The server does not run a model. A chat reply is built from the last user
// message by Reply, and a transcript is the text registered for the audio's
// SHA-256 with AddTranscript, split into timed segments.
package openaitest
