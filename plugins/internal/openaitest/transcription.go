package openaitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"strings"
)

// MaxAudioBytes is the largest upload the server accepts, 25 MiB, the limit
// the hosted OpenAI API documents for /v1/audio/transcriptions.
const MaxAudioBytes = 25 << 20

// TranscriptionRequest is the content of a multipart upload the server
// accepted.
type TranscriptionRequest struct {
	Model, Language, Prompt, ResponseFormat string
	Granularities                           []string
	FileName, FileContentType               string
	// AudioSHA256 is the lowercase hex SHA-256 of the uploaded file.
	AudioSHA256 string
	// Duration is the audio length in seconds, from the WAV header.
	Duration float64
}

// AddTranscript registers the text the server returns for audio whose
// SHA-256 is sum (lowercase hex).
func (s *Server) AddTranscript(sum, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcripts[sum] = text
}

// LastTranscription returns the last transcription request the server
// accepted, or nil.
func (s *Server) LastTranscription() *TranscriptionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastTranscribe
}

func (s *Server) handleTranscription(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxAudioBytes+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "Maximum content size limit (26214400) exceeded.")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Could not parse multipart form")
		return
	}
	defer r.MultipartForm.RemoveAll()

	req, audio, message := s.readTranscription(r)
	if message != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", message)
		return
	}
	duration, err := wavDuration(audio)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Audio file might be corrupted or unsupported: "+err.Error())
		return
	}
	req.Duration = duration

	s.mu.Lock()
	s.lastTranscribe = &req
	text := s.transcripts[req.AudioSHA256]
	s.mu.Unlock()

	s.writeTranscript(w, req, text)
}

func (s *Server) readTranscription(r *http.Request) (TranscriptionRequest, []byte, string) {
	form := r.MultipartForm
	req := TranscriptionRequest{
		Model:          r.FormValue("model"),
		Language:       r.FormValue("language"),
		Prompt:         r.FormValue("prompt"),
		ResponseFormat: r.FormValue("response_format"),
		Granularities:  form.Value["timestamp_granularities[]"],
	}
	if req.Model == "" {
		return req, nil, "you must provide a model parameter"
	}
	if !s.knownModel(req.Model) {
		return req, nil, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model)
	}
	if req.Language != "" && len(req.Language) != 2 {
		return req, nil, fmt.Sprintf("Invalid language '%s'. Language parameter must be specified in ISO-639-1 format.", req.Language)
	}
	switch req.ResponseFormat {
	case "", "json", "text", "verbose_json":
	default:
		return req, nil, fmt.Sprintf("Invalid response_format '%s'.", req.ResponseFormat)
	}

	files := form.File["file"]
	if len(files) != 1 {
		return req, nil, "you must provide exactly one file"
	}
	header := files[0]
	req.FileName, req.FileContentType = header.Filename, header.Header.Get("Content-Type")
	if ext := strings.ToLower(path.Ext(header.Filename)); ext != ".wav" {
		return req, nil, fmt.Sprintf("Unrecognized file format %q. This server accepts: ['wav']", ext)
	}
	f, err := header.Open()
	if err != nil {
		return req, nil, "could not read the uploaded file"
	}
	defer f.Close()
	audio, err := io.ReadAll(f)
	if err != nil {
		return req, nil, "could not read the uploaded file"
	}
	sum := sha256.Sum256(audio)
	req.AudioSHA256 = hex.EncodeToString(sum[:])
	return req, audio, ""
}

// wavDuration returns the length in seconds of a RIFF WAVE file from its
// fmt and data chunks.
func wavDuration(data []byte) (float64, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return 0, errors.New("not a RIFF WAVE file")
	}
	byteRate, dataSize := uint32(0), -1
	for offset := 12; offset+8 <= len(data); {
		id := string(data[offset : offset+4])
		size := int(binary.LittleEndian.Uint32(data[offset+4 : offset+8]))
		body := offset + 8
		switch id {
		case "fmt ":
			if size < 16 || body+16 > len(data) {
				return 0, errors.New("fmt chunk is truncated")
			}
			byteRate = binary.LittleEndian.Uint32(data[body+8 : body+12])
		case "data":
			dataSize = min(size, len(data)-body)
		}
		offset = body + size + size%2
	}
	if byteRate == 0 || dataSize < 0 {
		return 0, errors.New("missing fmt or data chunk")
	}
	return float64(dataSize) / float64(byteRate), nil
}

type segment struct {
	ID               int     `json:"id"`
	Seek             int     `json:"seek"`
	Start            float64 `json:"start"`
	End              float64 `json:"end"`
	Text             string  `json:"text"`
	Tokens           []int   `json:"tokens"`
	Temperature      float64 `json:"temperature"`
	AvgLogprob       float64 `json:"avg_logprob"`
	CompressionRatio float64 `json:"compression_ratio"`
	NoSpeechProb     float64 `json:"no_speech_prob"`
}

func (s *Server) writeTranscript(w http.ResponseWriter, req TranscriptionRequest, text string) {
	switch req.ResponseFormat {
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, text+"\n")
		return
	case "", "json":
		writeJSON(w, http.StatusOK, map[string]any{"text": text})
		return
	}

	language := "english"
	if name, ok := languageNames[req.Language]; ok {
		language = name
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"task":     "transcribe",
		"language": language,
		"duration": math.Round(req.Duration*100) / 100,
		"text":     text,
		"segments": splitSegments(text, req.Duration),
	})
}

var languageNames = map[string]string{"en": "english", "de": "german", "fr": "french", "es": "spanish"}

// splitSegments cuts text into segments of at most eight words and spreads
// them over the duration in proportion to their word counts.
func splitSegments(text string, duration float64) []segment {
	all := words(text)
	segments := []segment{}
	if len(all) == 0 {
		return segments
	}
	perWord := duration / float64(len(all))
	for start := 0; start < len(all); start += 8 {
		end := min(start+8, len(all))
		var b bytes.Buffer
		for _, word := range all[start:end] {
			b.WriteString(" " + word)
		}
		segments = append(segments, segment{
			ID:               len(segments),
			Start:            math.Round(float64(start)*perWord*100) / 100,
			End:              math.Round(float64(end)*perWord*100) / 100,
			Text:             b.String(),
			Tokens:           []int{},
			AvgLogprob:       -0.25,
			CompressionRatio: 1.2,
			NoSpeechProb:     0.01,
		})
	}
	return segments
}
