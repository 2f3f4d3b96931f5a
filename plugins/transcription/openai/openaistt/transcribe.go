package openaistt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/payload"
	"github.com/healthhub/healthhub/sdk"
)

// verboseTranscript is the verbose_json response body.
type verboseTranscript struct {
	Language string    `json:"language"`
	Duration float64   `json:"duration"`
	Text     string    `json:"text"`
	Segments []segment `json:"segments"`
}

type segment struct {
	Start      float64  `json:"start"`
	End        float64  `json:"end"`
	Text       string   `json:"text"`
	AvgLogprob *float64 `json:"avg_logprob"`
}

// Transcribe uploads the recording and returns the transcript with timed
// segments.
func (t *Transcriber) Transcribe(ctx context.Context, req sdk.TranscriptionRequest) (*sdk.Transcript, error) {
	s, err := t.current()
	if err != nil {
		return nil, err
	}
	upload, err := s.prepare(ctx, req)
	if err != nil {
		return nil, err
	}

	resp, err := s.service.Client.Do(ctx, httpx.Request{
		Op: "transcribe", Method: http.MethodPost, Path: "audio/transcriptions",
		Form: upload.form,
		Files: []httpx.File{{
			Field: "file", Name: "audio" + upload.extension, ContentType: upload.contentType,
			Content: bytes.NewReader(upload.audio),
		}},
	})
	if err != nil {
		return nil, err
	}

	var parsed verboseTranscript
	if err := json.Unmarshal(resp.Body, &parsed); err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "transcribe: %s returned a body that is not a verbose_json transcript: %v", s.service.Client.Host(), err)
	}
	return upload.transcript(parsed), nil
}

// upload is a checked request, ready to send.
type upload struct {
	audio                  []byte
	contentType, extension string
	language, model        string
	form                   url.Values
}

// prepare reads the audio within the size limit and builds the form
// fields. Nothing is sent when the request is invalid.
func (s *state) prepare(ctx context.Context, req sdk.TranscriptionRequest) (*upload, error) {
	if req.Audio == nil {
		return nil, sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Diagnostics: "transcribe: audio is missing"})
	}
	u := &upload{model: req.Model, language: req.Language}
	if u.model == "" {
		u.model = s.cfg.Model
	}
	if u.language == "" {
		u.language = s.cfg.Language
	}

	limit := s.cfg.maxAudioBytes()
	audio, err := payload.Read(ctx, req.Audio, limit)
	if errors.Is(err, payload.ErrTooLarge) {
		return nil, sdk.Errorf(sdk.CodeTooLong, "transcribe: audio is larger than max_audio_bytes (%d bytes); split the recording or raise the limit where the server allows it", limit)
	}
	if err != nil {
		return nil, fmt.Errorf("transcribe: %w", err)
	}
	if len(audio) == 0 {
		return nil, sdk.Invalidf("", "transcribe: audio is empty")
	}
	u.audio = audio

	if u.contentType, u.extension, err = audioFormat(req.ContentType, audio); err != nil {
		return nil, err
	}
	if u.form, err = u.formFields(req.Prompt); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *upload) formFields(prompt string) (url.Values, error) {
	form := url.Values{
		"model":                     {u.model},
		"response_format":           {"verbose_json"},
		"timestamp_granularities[]": {"segment"},
	}
	if u.language != "" {
		code, err := isoLanguage(u.language)
		if err != nil {
			return nil, sdk.Invalidf("", "transcribe: %v", err)
		}
		form.Set("language", code)
	}
	if prompt != "" {
		form.Set("prompt", prompt)
	}
	return form, nil
}

// audioFormats maps the MIME types the API accepts to the file extension
// the server uses to pick a decoder.
var audioFormats = map[string]string{
	"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/vnd.wave": ".wav",
	"audio/mpeg": ".mp3", "audio/mp3": ".mp3",
	"audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/m4a": ".m4a",
	"audio/ogg": ".ogg", "audio/webm": ".webm", "audio/flac": ".flac", "audio/x-flac": ".flac",
}

// audioFormat returns the normalized MIME type and the file extension for
// the upload. An empty content type is accepted for WAV, recognised by its
// RIFF header.
func audioFormat(contentType string, audio []byte) (string, string, error) {
	if contentType == "" {
		if isWAV(audio) {
			return "audio/wav", ".wav", nil
		}
		return "", "", sdk.Invalidf("", "transcribe: content type is missing and the audio is not WAV; set it, such as \"audio/mpeg\"")
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", "", sdk.Invalidf("", "transcribe: content type %q is not a valid MIME type", contentType)
	}
	extension, ok := audioFormats[mediaType]
	if !ok {
		return "", "", sdk.Errorf(sdk.CodeNotSupported, "transcribe: content type %q is not supported; send WAV, MP3, M4A, OGG, WebM or FLAC", mediaType)
	}
	if extension == ".wav" && !isWAV(audio) {
		return "", "", sdk.Invalidf("", "transcribe: content type is %q but the audio has no RIFF WAVE header", mediaType)
	}
	return mediaType, extension, nil
}

// wavDuration returns the length of a RIFF WAVE recording from the byte
// rate in its fmt chunk and the size of its data chunk, or 0 when either
// is missing.
func wavDuration(audio []byte) time.Duration {
	byteRate, dataSize := uint32(0), -1
	for offset := 12; offset+8 <= len(audio); {
		id := string(audio[offset : offset+4])
		size := int(binary.LittleEndian.Uint32(audio[offset+4 : offset+8]))
		body := offset + 8
		switch {
		case id == "fmt " && size >= 16 && body+16 <= len(audio):
			byteRate = binary.LittleEndian.Uint32(audio[body+8 : body+12])
		case id == "data":
			dataSize = min(size, len(audio)-body)
		}
		if size < 0 || body+size < body {
			break
		}
		offset = body + size + size%2
	}
	if byteRate == 0 || dataSize < 0 {
		return 0
	}
	return time.Duration(float64(dataSize) / float64(byteRate) * float64(time.Second))
}

func isWAV(audio []byte) bool {
	return len(audio) >= 12 && string(audio[0:4]) == "RIFF" && string(audio[8:12]) == "WAVE"
}

// transcript converts the response into the SDK's transcript.
func (u *upload) transcript(parsed verboseTranscript) *sdk.Transcript {
	out := &sdk.Transcript{
		Text:     strings.TrimSpace(parsed.Text),
		Language: u.language,
		Duration: seconds(parsed.Duration),
		Model:    u.model,
	}
	if out.Language == "" {
		out.Language = bcp47Language(parsed.Language)
	}
	if out.Duration == 0 && u.extension == ".wav" {
		// Servers that ignore verbose_json send no duration.
		out.Duration = wavDuration(u.audio)
	}
	for _, seg := range parsed.Segments {
		out.Segments = append(out.Segments, sdk.Segment{
			Start:      seconds(seg.Start),
			End:        seconds(seg.End),
			Text:       strings.TrimSpace(seg.Text),
			Confidence: confidence(seg.AvgLogprob),
		})
	}
	return out
}

func seconds(value float64) time.Duration {
	return time.Duration(math.Round(value * float64(time.Second)))
}

// confidence estimates a segment's confidence as the geometric mean token
// probability, exp(avg_logprob), or -1 when the server sends none.
func confidence(avgLogprob *float64) float64 {
	if avgLogprob == nil {
		return -1
	}
	return math.Min(1, math.Max(0, math.Exp(*avgLogprob)))
}
