// Package openaistt is the transcription provider "transcription-openai":
// speech to text through the OpenAI-compatible audio transcription API
// (POST /v1/audio/transcriptions), which the hosted OpenAI API and
// self-hosted Whisper servers speak.
//
// The audio is uploaded as multipart/form-data with the model, the
// language as an ISO 639-1 code, an optional prompt, and
// response_format=verbose_json with segment timestamps, so the transcript
// comes back with timed segments. A segment's confidence is estimated as
// exp(avg_logprob), the mean token probability Whisper reports, or -1 when
// the server sends no avg_logprob.
//
// The upload is a POST and is never retried. Audio and transcripts are
// never logged.
package openaistt
