package openaistt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/internal/openaiapi"
	"github.com/healthhub/healthhub/plugins/internal/openaitest"
	"github.com/healthhub/healthhub/sdk"
)

const (
	testKey   = "sk-stt-test"
	testModel = "whisper-1"
)

var audioDir = filepath.Join("..", "..", "..", "..", "testdata", "audio")

// clip is a recording from testdata with its reference transcript from
// testdata/audio/transcripts.tsv.
type clip struct {
	file, transcript string
}

var (
	cardsClip  = clip{"cards-001.wav", "ten of clubs"}
	espeakClip = clip{"espeak-DiagnosticReport-f201-conclusion-22k.wav", "CT brains: large tumor sphenoid/clivus."}
)

func readClip(t testing.TB, c clip) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(audioDir, c.file))
	require.NoError(t, err)
	return data
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func startServer(t *testing.T, clips ...clip) *openaitest.Server {
	t.Helper()
	server := openaitest.New(testKey, testModel)
	t.Cleanup(server.Close)
	for _, c := range clips {
		server.AddTranscript(sha(readClip(t, c)), c.transcript)
	}
	return server
}

func testConfig(server *openaitest.Server) Config {
	return Config{Connection: openaiapi.Connection{Endpoint: server.BaseURL(), APIKey: testKey}, Model: testModel}
}

func openTranscriber(t *testing.T, cfg Config) *Transcriber {
	t.Helper()
	tr, err := Open(cfg, nil)
	require.NoError(t, err)
	return tr
}

// headerDuration reads the length of a 16-bit PCM WAV with a 44-byte
// header, to check the value the plugin reports against the file itself.
func headerDuration(t *testing.T, data []byte) time.Duration {
	t.Helper()
	require.Equal(t, "data", string(data[36:40]), "the test clips have a canonical 44-byte header")
	byteRate := float64(uint32(data[28]) | uint32(data[29])<<8 | uint32(data[30])<<16 | uint32(data[31])<<24)
	return time.Duration(float64(len(data)-44) / byteRate * float64(time.Second))
}

func issueOf(t *testing.T, err error) sdk.Issue {
	t.Helper()
	var outcome *sdk.Outcome
	require.ErrorAs(t, err, &outcome)
	require.NotEmpty(t, outcome.Issues)
	return outcome.Issues[0]
}

func TestTranscribeClips(t *testing.T) {
	tests := []struct {
		name         string
		clip         clip
		language     string
		wantLanguage string
		wantSent     string
	}{
		{"cards with language", cardsClip, "en-US", "en-US", "en"},
		{"espeak detected language", espeakClip, "", "en", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, tc.clip)
			tr := openTranscriber(t, testConfig(server))
			audio := readClip(t, tc.clip)

			got, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{
				Audio: bytes.NewReader(audio), ContentType: "audio/wav", Language: tc.language, Prompt: "card names",
			})
			require.NoError(t, err)
			assert.Equal(t, tc.clip.transcript, got.Text)
			assert.Equal(t, tc.wantLanguage, got.Language)
			assert.Equal(t, testModel, got.Model)
			assert.InDelta(t, headerDuration(t, audio).Seconds(), got.Duration.Seconds(), 0.01)
			require.NotEmpty(t, got.Segments)
			assert.Equal(t, time.Duration(0), got.Segments[0].Start)
			assert.InDelta(t, got.Duration.Seconds(), got.Segments[len(got.Segments)-1].End.Seconds(), 0.02)
			assert.InDelta(t, math.Exp(-0.25), got.Segments[0].Confidence, 1e-9)

			sent := server.LastTranscription()
			require.NotNil(t, sent)
			assert.Equal(t, sha(audio), sent.AudioSHA256, "the server received the file unchanged")
			assert.Equal(t, testModel, sent.Model)
			assert.Equal(t, tc.wantSent, sent.Language)
			assert.Equal(t, "verbose_json", sent.ResponseFormat)
			assert.Equal(t, []string{"segment"}, sent.Granularities)
			assert.Equal(t, "card names", sent.Prompt)
			assert.Equal(t, "audio.wav", sent.FileName)
			assert.Equal(t, "audio/wav", sent.FileContentType)
		})
	}
}

func TestTranscribeSegmentsJoinToText(t *testing.T) {
	long := clip{espeakClip.file, "the scan shows a large tumor in the sphenoid and clivus with no other findings today"}
	server := startServer(t, long)
	tr := openTranscriber(t, testConfig(server))

	got, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(readClip(t, long)), ContentType: "audio/wav"})
	require.NoError(t, err)
	require.Len(t, got.Segments, 2)
	assert.Equal(t, got.Text, got.Segments[0].Text+" "+got.Segments[1].Text)
	assert.Equal(t, got.Segments[0].End, got.Segments[1].Start)
}

func TestTranscribeRejectsLocally(t *testing.T) {
	wav := readClip(t, cardsClip)
	tests := []struct {
		name        string
		req         sdk.TranscriptionRequest
		maxBytes    int64
		sentinel    error
		wantMessage string
	}{
		{"too large", sdk.TranscriptionRequest{Audio: bytes.NewReader(wav), ContentType: "audio/wav"}, 1000, sdk.ErrTooLarge, "max_audio_bytes"},
		{"empty", sdk.TranscriptionRequest{Audio: bytes.NewReader(nil), ContentType: "audio/wav"}, 0, sdk.ErrInvalid, "empty"},
		{"missing", sdk.TranscriptionRequest{ContentType: "audio/wav"}, 0, sdk.ErrInvalid, "missing"},
		{"unsupported type", sdk.TranscriptionRequest{Audio: bytes.NewReader(wav), ContentType: "video/avi"}, 0, sdk.ErrNotSupported, "not supported"},
		{"wav type but not wav", sdk.TranscriptionRequest{Audio: bytes.NewReader([]byte("ID3 mp3 data here")), ContentType: "audio/wav"}, 0, sdk.ErrInvalid, "no RIFF WAVE header"},
		{"bad language", sdk.TranscriptionRequest{Audio: bytes.NewReader(wav), ContentType: "audio/wav", Language: "english"}, 0, sdk.ErrInvalid, "ISO 639-1"},
		{"no type not wav", sdk.TranscriptionRequest{Audio: bytes.NewReader([]byte("OggS....")), ContentType: ""}, 0, sdk.ErrInvalid, "content type is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			cfg := testConfig(server)
			cfg.MaxAudioBytes = tc.maxBytes
			tr := openTranscriber(t, cfg)

			_, err := tr.Transcribe(context.Background(), tc.req)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.ErrorContains(t, err, tc.wantMessage)
			assert.Zero(t, server.Calls("/v1/audio/transcriptions"))
		})
	}
}

func TestTranscribeWithoutContentTypeSniffsWAV(t *testing.T) {
	server := startServer(t, cardsClip)
	tr := openTranscriber(t, testConfig(server))

	got, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(readClip(t, cardsClip))})
	require.NoError(t, err)
	assert.Equal(t, cardsClip.transcript, got.Text)
	assert.Equal(t, "audio/wav", server.LastTranscription().FileContentType)
}

func TestTranscribeUploadNotReplayed(t *testing.T) {
	tests := []struct {
		name     string
		failure  openaitest.Failure
		sentinel error
	}{
		{"503", openaitest.Failure{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}}, sdk.ErrUnavailable},
		{"connection reset", openaitest.Failure{Reset: true}, sdk.ErrUnavailable},
		{"413", openaitest.Failure{Status: http.StatusRequestEntityTooLarge, Body: `{"error":{"message":"Maximum content size limit (26214400) exceeded."}}`}, sdk.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, cardsClip)
			server.Fail("/v1/audio/transcriptions", tc.failure)
			tr := openTranscriber(t, testConfig(server))

			_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(readClip(t, cardsClip)), ContentType: "audio/wav"})
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Equal(t, 1, server.Calls("/v1/audio/transcriptions"))
		})
	}
}

func TestTranscribeUpstreamErrors(t *testing.T) {
	server := startServer(t, cardsClip)
	cfg := testConfig(server)
	cfg.Model = "whisper-large-v9"
	tr := openTranscriber(t, cfg)

	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(readClip(t, cardsClip)), ContentType: "audio/wav"})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.ErrorContains(t, err, "`whisper-large-v9` does not exist")
	assert.Equal(t, sdk.SourceUpstream, issueOf(t, err).Source)
}

func TestTranscribeJSONOnlyServer(t *testing.T) {
	server := startServer(t)
	server.Fail("/v1/audio/transcriptions", openaitest.Failure{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"text":" ten of clubs "}`})
	tr := openTranscriber(t, testConfig(server))
	audio := readClip(t, cardsClip)

	got, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(audio), ContentType: "audio/wav"})
	require.NoError(t, err)
	assert.Equal(t, "ten of clubs", got.Text)
	assert.Empty(t, got.Segments)
	assert.InDelta(t, headerDuration(t, audio).Seconds(), got.Duration.Seconds(), 0.001, "the duration comes from the WAV header")
}

func TestHealthDataUseAndConfigure(t *testing.T) {
	server := startServer(t)
	tr := openTranscriber(t, testConfig(server))
	assert.NoError(t, tr.CheckHealth(context.Background()))
	assert.False(t, tr.DataUse().Egress)

	remote := openTranscriber(t, Config{Connection: openaiapi.Connection{Endpoint: "https://whisper.example.org/v1"}, Model: "whisper-1"})
	assert.True(t, remote.DataUse().Egress)
	assert.Equal(t, []string{"whisper.example.org"}, remote.DataUse().Hosts)

	tests := []struct {
		name string
		raw  string
		path string
	}{
		{"missing model", `{"endpoint":"http://127.0.0.1:1/v1"}`, "/model"},
		{"bad language", `{"endpoint":"http://127.0.0.1:1/v1","model":"m","language":"english"}`, "/language"},
		{"negative limit", `{"endpoint":"http://127.0.0.1:1/v1","model":"m","max_audio_bytes":-1}`, "/max_audio_bytes"},
		{"missing endpoint", `{"model":"m"}`, "/endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := New(nil).Configure(context.Background(), json.RawMessage(tc.raw))
			assert.Equal(t, tc.path, issueOf(t, err).Path)
		})
	}
}

func TestLanguageConversion(t *testing.T) {
	assert.Equal(t, "en", bcp47Language("english"))
	assert.Equal(t, "jv", bcp47Language("Javanese"))
	assert.Equal(t, "yue", bcp47Language("cantonese"))
	assert.Equal(t, "de", bcp47Language("de"))
	assert.Equal(t, "", bcp47Language("klingon"))

	code, err := isoLanguage("pt-BR")
	require.NoError(t, err)
	assert.Equal(t, "pt", code)
	_, err = isoLanguage("haw")
	assert.Error(t, err)
}
