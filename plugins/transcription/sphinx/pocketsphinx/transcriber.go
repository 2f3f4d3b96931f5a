package pocketsphinx

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/healthhub/healthhub/sdk"
)

// Version is the transcription-sphinx provider version.
const Version = "0.1.0"

// Info returns the description of the transcription-sphinx provider. Audio
// is decoded by a process on this machine and nothing is kept after the
// call, so the data-use declaration has no egress and zero retention.
func Info() sdk.Info {
	return sdk.Info{
		Name:            "transcription-sphinx",
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindTranscription},
		ProtocolVersion: sdk.ProtocolVersion,
		Capabilities:    []string{sdk.CapabilityStream},
		DataUse:         sdk.DataUse{Egress: false, RetentionDays: 0},
	}
}

// Transcriber transcribes WAV audio with CMU PocketSphinx. It implements
// sdk.Transcriber, sdk.StreamingTranscriber, sdk.Configurer and
// sdk.HealthChecker, and is safe for concurrent use.
type Transcriber struct {
	settings atomic.Pointer[settings]
}

var (
	_ sdk.Transcriber          = (*Transcriber)(nil)
	_ sdk.StreamingTranscriber = (*Transcriber)(nil)
	_ sdk.Configurer           = (*Transcriber)(nil)
	_ sdk.HealthChecker        = (*Transcriber)(nil)
)

// New returns a Transcriber with the given configuration. It checks the
// values but not that the program and models exist; CheckHealth does.
func New(cfg Config) (*Transcriber, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	t := &Transcriber{}
	t.settings.Store(s)
	return t, nil
}

// Configure replaces the configuration with the JSON object config. Calls
// in progress finish with the settings they started with.
func (t *Transcriber) Configure(_ context.Context, config json.RawMessage) error {
	cfg, err := decodeConfig(config)
	if err != nil {
		return err
	}
	s, err := cfg.resolve()
	if err != nil {
		return err
	}
	t.settings.Store(s)
	return nil
}

// Settings returns the configuration in force, with the defaults applied.
func (t *Transcriber) Settings() Config {
	return t.current().Config
}

// current returns the settings in force, the defaults when neither New nor
// Configure set any.
func (t *Transcriber) current() *settings {
	if s := t.settings.Load(); s != nil {
		return s
	}
	s, _ := Config{}.resolve()
	if t.settings.CompareAndSwap(nil, s) {
		return s
	}
	return t.settings.Load()
}

// CheckHealth checks that the decoder program and the model files exist.
func (t *Transcriber) CheckHealth(_ context.Context) error {
	s := t.current()
	if _, err := exec.LookPath(s.Program); err != nil {
		return sdk.Errorf(sdk.CodeException, "check transcription-sphinx: decoder program %q not found: %v; install pocketsphinx (scripts/install-deps.sh) or set program", s.Program, err)
	}

	files := []struct{ setting, path string }{
		{"acoustic_model", filepath.Join(s.AcousticModel, "mdef")},
		{"language_model", s.LanguageModel},
		{"dictionary", s.Dictionary},
	}
	for _, f := range files {
		if _, err := os.Stat(f.path); err != nil {
			return sdk.Errorf(sdk.CodeException, "check transcription-sphinx: %s file %s is missing: %v; install pocketsphinx-en-us (scripts/install-deps.sh) or set %s", f.setting, f.path, err, f.setting)
		}
	}
	return nil
}

// Transcribe transcribes a WAV recording. See TranscribeStream.
func (t *Transcriber) Transcribe(ctx context.Context, req sdk.TranscriptionRequest) (*sdk.Transcript, error) {
	return t.TranscribeStream(ctx, req, nil)
}

// TranscribeStream transcribes a WAV recording and calls emit, when not
// nil, with each utterance as the decoder finishes it. The audio may be PCM
// (8, 16, 24 or 32 bits), IEEE float (32 or 64 bits), A-law or mu-law, at
// 8 to 192 kHz, with up to 8 channels. It is mixed down to mono and
// resampled to 16 kHz on the way to the decoder.
//
// Other content is rejected with ErrInvalid, another language or model with
// ErrNotSupported, and audio longer than the configured maximum with
// ErrTooLarge. Cancelling ctx kills the decoder process.
func (t *Transcriber) TranscribeStream(ctx context.Context, req sdk.TranscriptionRequest, emit func(sdk.Segment) error) (*sdk.Transcript, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transcribe: %w", err)
	}
	s := t.current()
	if err := s.checkRequest(req); err != nil {
		return nil, err
	}

	conv, err := newConversion(req.Audio, s.maxDuration)
	if err != nil {
		return nil, err
	}

	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("transcribe: wait for a free decoder: %w", ctx.Err())
	}

	segments, err := s.decode(ctx, conv, emit)
	if err != nil {
		return nil, err
	}

	texts := make([]string, len(segments))
	for i, segment := range segments {
		texts[i] = segment.Text
	}
	return &sdk.Transcript{
		Text:     strings.Join(texts, " "),
		Language: s.Language,
		Duration: conv.Duration(),
		Model:    s.ModelName,
		Segments: segments,
	}, nil
}

// checkRequest rejects requests this provider cannot serve before any audio
// is read.
func (s *settings) checkRequest(req sdk.TranscriptionRequest) error {
	if req.Audio == nil {
		return sdk.Invalidf("", "transcribe: the request has no audio; send a WAV recording")
	}
	if req.ContentType != "" {
		mediaType, _, err := mime.ParseMediaType(req.ContentType)
		if err != nil || !isWAVMediaType(mediaType) {
			return sdk.Invalidf("", "transcribe: content type %q is not supported; send WAV audio as audio/wav", req.ContentType)
		}
	}
	if req.Language != "" && primaryLanguage(req.Language) != primaryLanguage(s.Language) {
		return sdk.Errorf(sdk.CodeNotSupported, "transcribe: language %q is not supported; the configured model recognises %s", req.Language, s.Language)
	}
	if req.Model != "" && req.Model != s.ModelName {
		return sdk.Errorf(sdk.CodeNotSupported, "transcribe: model %q is not available; this provider serves %q", req.Model, s.ModelName)
	}
	return nil
}

func isWAVMediaType(mediaType string) bool {
	switch mediaType {
	case "audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave":
		return true
	}
	return false
}
