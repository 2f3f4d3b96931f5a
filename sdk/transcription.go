package sdk

import (
	"context"
	"io"
	"time"
)

// TranscriptionRequest is audio to turn into text.
type TranscriptionRequest struct {
	// Audio is the recording. Providers accept at least WAV
	// ("audio/wav"); others declare further formats in their docs.
	Audio io.Reader
	// ContentType is the audio's MIME type, such as "audio/wav".
	ContentType string
	// Language is the spoken language as a BCP 47 tag, such as "en-US".
	// Empty lets the provider detect it or use its default.
	Language string
	// Model selects a model where the provider has several. Empty means
	// the provider's configured default.
	Model string
	// Prompt is optional context that guides recognition, such as
	// expected vocabulary. Providers that cannot use it ignore it.
	Prompt string
}

// Transcript is the text recognised in a recording.
type Transcript struct {
	// Text is the whole transcript.
	Text string `json:"text"`
	// Language is the language recognised or requested, as a BCP 47 tag.
	Language string `json:"language,omitempty"`
	// Duration is the length of the audio.
	Duration time.Duration `json:"duration"`
	// Model is the model that produced the transcript.
	Model string `json:"model,omitempty"`
	// Segments split Text by time, in order.
	Segments []Segment `json:"segments,omitempty"`
}

// Segment is a stretch of recognised speech.
type Segment struct {
	// Start and End are offsets from the beginning of the audio.
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	Text  string        `json:"text"`
	// Confidence is the provider's confidence in the segment, from 0 to 1,
	// or -1 when the provider does not report one.
	Confidence float64 `json:"confidence"`
	// Words are the segment's words with their own times, in order, when
	// the provider reports them.
	Words []Word `json:"words,omitempty"`
}

// Word is one recognised word. Start, End and Confidence have the meaning
// they have on Segment.
type Word struct {
	Start      time.Duration `json:"start"`
	End        time.Duration `json:"end"`
	Text       string        `json:"text"`
	Confidence float64       `json:"confidence"`
}

// Transcriber turns speech into text: the provider kind "transcription".
type Transcriber interface {
	Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error)
}

// StreamingTranscriber is implemented by transcribers that report segments
// as they are recognised. TranscribeStream calls emit for each segment in
// order and returns the whole transcript at the end. An error from emit
// stops the transcription and is returned.
type StreamingTranscriber interface {
	TranscribeStream(ctx context.Context, req TranscriptionRequest, emit func(Segment) error) (*Transcript, error)
}
