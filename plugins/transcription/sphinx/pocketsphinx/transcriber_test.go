package pocketsphinx

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// Minimum shares of reference words that a transcript must contain. The
// LibriVox clips are natural read speech: the en-us model gets 0.73 and
// 0.75 of their words (word error rates 0.36 and 0.25, see
// docs/benchmarks.md, "Local providers"), and 0.6 leaves a margin. The
// cards clip is a grammar task ("ten of clubs") that the general language
// model misses, and the espeak-ng voice is synthetic. PocketSphinx
// recognises neither, and the espeak clip gives the same wrong words when
// sox resamples it instead of this package. Only a non-empty transcript is
// required of these two.
var minSharedWords = map[string]float64{
	"sense_and_sensibility_01_austen_64kb-0870.wav":   0.6,
	"sense_and_sensibility_01_austen_64kb-0880.wav":   0.6,
	"espeak-DiagnosticReport-f201-conclusion-22k.wav": 0,
	"cards-001.wav": 0,
}

func newTestTranscriber(t *testing.T, cfg Config) *Transcriber {
	t.Helper()
	tr, err := New(cfg)
	require.NoError(t, err)
	return tr
}

func openAudio(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(audioDir, name))
	require.NoError(t, err)
	return data
}

func TestTranscribeTestdataClips(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{})

	for _, ref := range readTranscripts(t) {
		t.Run(ref.file, func(t *testing.T) {
			minShared, ok := minSharedWords[ref.file]
			require.True(t, ok, "no threshold for %s; add it to minSharedWords", ref.file)

			transcript, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{
				Audio:       bytes.NewReader(openAudio(t, ref.file)),
				ContentType: "audio/wav",
				Language:    "en-US",
			})
			require.NoError(t, err)

			wer := wordErrorRate(ref.transcript, transcript.Text)
			shared := sharedWordFraction(ref.transcript, transcript.Text)
			t.Logf("WER %.2f, shared words %.2f: %q", wer, shared, transcript.Text)

			assert.NotEmpty(t, transcript.Text)
			assert.GreaterOrEqual(t, shared, minShared)
			assert.Equal(t, "en-US", transcript.Language)
			assert.Equal(t, DefaultModelName, transcript.Model)
			assert.Positive(t, transcript.Duration)
			require.NotEmpty(t, transcript.Segments)
			for _, segment := range transcript.Segments {
				assert.LessOrEqual(t, segment.Start, segment.End)
				assert.LessOrEqual(t, segment.End, transcript.Duration+100*time.Millisecond)
				assert.GreaterOrEqual(t, segment.Confidence, 0.0)
				assert.LessOrEqual(t, segment.Confidence, 1.0)
			}
		})
	}
}

// decodeWAV16 returns the samples of a 16-bit mono WAV file in [-1, 1].
func decodeWAV16(t testing.TB, data []byte) ([]float64, int) {
	t.Helper()
	stream, err := readWAVHeader(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, 1, stream.Format.Channels)
	fr := newFrameReader(stream)
	var samples []float64
	buf := make([]float64, frameBlock)
	for {
		n, err := fr.Read(buf)
		samples = append(samples, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
	}
	return samples, stream.Format.SampleRate
}

// resampleAll converts samples from one rate to another in one go.
func resampleAll(t testing.TB, samples []float64, from, to int) []float64 {
	t.Helper()
	rs, err := newResampler(from, to)
	require.NoError(t, err)
	out := rs.Process(samples, nil)
	return rs.Flush(out)
}

func TestTranscribeResampledSpeech(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{})
	const clip = "sense_and_sensibility_01_austen_64kb-0880.wav"
	ref := "he was not an ill disposed young man"
	speech, rate := decodeWAV16(t, openAudio(t, clip))
	require.Equal(t, modelRate, rate)

	tests := []struct {
		name string
		spec wavSpec
	}{
		{"44.1 kHz stereo 16-bit", wavSpec{code: formatPCM, channels: 2, rate: 44100, bits: 16}},
		{"48 kHz mono float32", wavSpec{code: formatIEEEFloat, channels: 1, rate: 48000, bits: 32}},
		{"22.05 kHz stereo 24-bit extensible", wavSpec{code: formatPCM, channels: 2, rate: 22050, bits: 24, extensible: true}},
		{"32 kHz mono 8-bit", wavSpec{code: formatPCM, channels: 1, rate: 32000, bits: 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upsampled := resampleAll(t, speech, modelRate, tc.spec.rate)
			frames := make([][]float64, len(upsampled))
			for i, v := range upsampled {
				frames[i] = make([]float64, tc.spec.channels)
				for c := range frames[i] {
					frames[i][c] = v
				}
			}

			transcript, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{
				Audio: bytes.NewReader(buildWAV(tc.spec, frames)),
			})
			require.NoError(t, err)
			t.Logf("WER %.2f: %q", wordErrorRate(ref, transcript.Text), transcript.Text)
			assert.GreaterOrEqual(t, sharedWordFraction(ref, transcript.Text), minSharedWords[clip])
			assert.InDelta(t, float64(len(speech))/modelRate, transcript.Duration.Seconds(), 0.01)
		})
	}
}

// twoUtterances returns a 16 kHz mono WAV with two clips separated by two
// seconds of silence, which the decoder reports as two utterances, and the
// byte offset where the second clip starts.
func twoUtterances(t testing.TB) ([]byte, int) {
	t.Helper()
	first, _ := decodeWAV16(t, openAudio(t, "sense_and_sensibility_01_austen_64kb-0880.wav"))
	second, _ := decodeWAV16(t, openAudio(t, "sense_and_sensibility_01_austen_64kb-0870.wav"))
	silence := make([]float64, 2*modelRate)

	var samples []float64
	samples = append(samples, first...)
	samples = append(samples, silence...)
	split := len(samples)
	samples = append(samples, second...)
	samples = append(samples, silence[:modelRate/2]...)

	frames := make([][]float64, len(samples))
	for i, v := range samples {
		frames[i] = []float64{v}
	}
	data := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: modelRate, bits: 16}, frames)
	return data, 44 + split*2
}

// gatedReader returns the bytes before split, then waits for open to be
// closed before returning the rest. It fails the wait when stop is closed
// first, so a test cannot hang.
type gatedReader struct {
	data  []byte
	split int
	pos   int
	open  chan struct{}
	stop  <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.pos == g.split {
		select {
		case <-g.open:
		case <-g.stop:
			return 0, errors.New("gated reader: stopped before the gate opened")
		}
	}
	end := len(g.data)
	if g.pos < g.split {
		end = g.split
	}
	if g.pos >= end {
		return 0, io.EOF
	}
	n := copy(p, g.data[g.pos:end])
	g.pos += n
	return n, nil
}

func TestTranscribeStreamEmitsBeforeAudioEnds(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{})
	data, split := twoUtterances(t)

	// The rest of the audio is released only once the first segment has
	// been emitted, so a provider that waited for the end of the audio
	// before emitting would never get it.
	gate := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reader := &gatedReader{data: data, split: split, open: gate, stop: ctx.Done()}

	var emitted []sdk.Segment
	transcript, err := tr.TranscribeStream(ctx, sdk.TranscriptionRequest{Audio: reader, ContentType: "audio/wav"}, func(s sdk.Segment) error {
		if len(emitted) == 0 {
			close(gate)
		}
		emitted = append(emitted, s)
		return nil
	})
	require.NoError(t, err)

	require.Len(t, emitted, 2)
	assert.Equal(t, emitted, transcript.Segments)
	assert.Contains(t, emitted[0].Text, "young man")
	assert.Contains(t, emitted[1].Text, "consider")
	assert.Less(t, emitted[0].End, emitted[1].Start)
	assert.Greater(t, emitted[1].Start, 4*time.Second, "second clip starts after the first (3 s) and the silence (2 s)")
	assert.Equal(t, emitted[0].Text+" "+emitted[1].Text, transcript.Text)
}

func TestTranscribeStreamCancelStopsDecoder(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{})
	data, split := twoUtterances(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The gate never opens: the rest of the audio is withheld until the
	// request is cancelled, so the call can only return through the
	// cancellation.
	reader := &gatedReader{data: data, split: split, open: make(chan struct{}), stop: ctx.Done()}

	emitted := 0
	_, err := tr.TranscribeStream(ctx, sdk.TranscriptionRequest{Audio: reader}, func(sdk.Segment) error {
		emitted++
		cancel()
		return nil
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, emitted)
	assert.Less(t, reader.pos, len(data), "the audio after the gate was never read")
}

func TestTranscribeStreamEmitErrorStops(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{})
	data, _ := twoUtterances(t)
	errStop := errors.New("client went away")

	calls := 0
	_, err := tr.TranscribeStream(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(data)}, func(sdk.Segment) error {
		calls++
		return errStop
	})
	assert.ErrorIs(t, err, errStop)
	assert.Equal(t, 1, calls)
}

func TestTranscribeLeavesNoTempFiles(t *testing.T) {
	requireSphinx(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	tr := newTestTranscriber(t, Config{})

	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{
		Audio: bytes.NewReader(openAudio(t, "espeak-DiagnosticReport-f201-conclusion-22k.wav")),
	})
	require.NoError(t, err)

	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// streamedWAV returns a 16 kHz mono WAV of the given length whose data
// chunk size is unknown (0xFFFFFFFF), as streaming recorders write it.
func streamedWAV(seconds float64) []byte {
	frames := sineFrames(modelRate, 1, 300, 0.1, seconds)
	data := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: modelRate, bits: 16}, frames)
	binary.LittleEndian.PutUint32(data[40:44], unknownDataSize)
	return data
}

func TestTranscribeRejectsBadRequests(t *testing.T) {
	clip := openAudio(t, "sense_and_sensibility_01_austen_64kb-0870.wav")
	truncated := clip[:len(clip)/2]
	empty := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: modelRate, bits: 16}, nil)

	tests := []struct {
		name      string
		cfg       Config
		req       sdk.TranscriptionRequest
		sentinel  error
		diagnosis string
		decoder   bool // the check runs after the decoder started
	}{
		{"no audio", Config{}, sdk.TranscriptionRequest{}, sdk.ErrInvalid, "no audio", false},
		{"mp3 content type", Config{}, sdk.TranscriptionRequest{Audio: bytes.NewReader(clip), ContentType: "audio/mpeg"}, sdk.ErrInvalid, `"audio/mpeg" is not supported`, false},
		{"not a wav", Config{}, sdk.TranscriptionRequest{Audio: strings.NewReader("ID3\x04\x00 this is an mp3 frame")}, sdk.ErrInvalid, "RIFF", false},
		{"empty wav", Config{}, sdk.TranscriptionRequest{Audio: bytes.NewReader(empty)}, sdk.ErrInvalid, "no audio samples", false},
		{"french", Config{}, sdk.TranscriptionRequest{Audio: bytes.NewReader(clip), Language: "fr-FR"}, sdk.ErrNotSupported, `language "fr-FR"`, false},
		{"other model", Config{}, sdk.TranscriptionRequest{Audio: bytes.NewReader(clip), Model: "whisper-1"}, sdk.ErrNotSupported, `model "whisper-1"`, false},
		{"too long", Config{MaxAudioSeconds: 2}, sdk.TranscriptionRequest{Audio: bytes.NewReader(clip)}, sdk.ErrTooLarge, "longer than 2s", false},
		{"truncated data", Config{}, sdk.TranscriptionRequest{Audio: bytes.NewReader(truncated)}, sdk.ErrInvalid, "stream ended after", true},
		{"streamed too long", Config{MaxAudioSeconds: 2}, sdk.TranscriptionRequest{Audio: bytes.NewReader(streamedWAV(3))}, sdk.ErrTooLarge, "longer than 2s", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.decoder {
				requireSphinx(t)
			}
			tr := newTestTranscriber(t, tc.cfg)
			_, err := tr.Transcribe(context.Background(), tc.req)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Contains(t, err.Error(), tc.diagnosis)
		})
	}
}

func TestTranscribeStreamedWAV(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{})
	transcript, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(streamedWAV(1.5))})
	require.NoError(t, err)
	assert.Equal(t, 1500*time.Millisecond, transcript.Duration)
}

func TestTranscribeDecoderFailure(t *testing.T) {
	requireSphinx(t)
	tr := newTestTranscriber(t, Config{AcousticModel: t.TempDir()})
	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{
		Audio: bytes.NewReader(openAudio(t, "cards-001.wav")),
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoder failed")
	assert.Contains(t, err.Error(), "mdef", "the decoder's own error line is passed on")
}

func TestTranscribeMissingProgram(t *testing.T) {
	tr := newTestTranscriber(t, Config{Program: filepath.Join(t.TempDir(), "pocketsphinx_continuous")})
	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{
		Audio: bytes.NewReader(openAudio(t, "cards-001.wav")),
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "install pocketsphinx")
}

func TestCheckHealth(t *testing.T) {
	t.Run("installed", func(t *testing.T) {
		requireSphinx(t)
		assert.NoError(t, newTestTranscriber(t, Config{}).CheckHealth(context.Background()))
	})

	tests := []struct {
		name    string
		cfg     Config
		setting string
	}{
		{"missing program", Config{Program: "/nonexistent/pocketsphinx_continuous"}, "program"},
		{"missing acoustic model", Config{Program: "sh", AcousticModel: "/nonexistent"}, "acoustic_model"},
		{"missing dictionary", Config{Program: "sh", AcousticModel: ".", Dictionary: "/nonexistent.dict"}, "dictionary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.AcousticModel == "." {
				// A directory with an mdef file passes the acoustic model
				// check, so the dictionary is the first file missing.
				dir := t.TempDir()
				require.NoError(t, os.WriteFile(filepath.Join(dir, "mdef"), nil, 0o600))
				lm := filepath.Join(dir, "lm.bin")
				require.NoError(t, os.WriteFile(lm, nil, 0o600))
				tc.cfg.AcousticModel, tc.cfg.LanguageModel = dir, lm
			}
			err := newTestTranscriber(t, tc.cfg).CheckHealth(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.setting)
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name   string
		config string
		path   string // JSON Pointer of the expected issue; empty for success
	}{
		{"null", `null`, ""},
		{"empty object", `{}`, ""},
		{"all settings", `{"program":"pocketsphinx_continuous","acoustic_model":"/m","language_model":"/l","dictionary":"/d","language":"en-GB","model_name":"custom","max_audio_seconds":60,"max_concurrent":1}`, ""},
		{"unknown setting", `{"colour":"blue"}`, "/colour"},
		{"wrong type", `{"max_audio_seconds":"long"}`, "/max_audio_seconds"},
		{"negative duration", `{"max_audio_seconds":-5}`, "/max_audio_seconds"},
		{"negative concurrency", `{"max_concurrent":-1}`, "/max_concurrent"},
		{"bad language", `{"language":"english please"}`, "/language"},
		{"not an object", `[1,2]`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transcriber{}
			err := tr.Configure(context.Background(), json.RawMessage(tc.config))
			if tc.path == "" && tc.name != "not an object" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
			var outcome *sdk.Outcome
			require.ErrorAs(t, err, &outcome)
			assert.Equal(t, tc.path, outcome.Issues[0].Path)
		})
	}
}

func TestConfigureAppliesSettings(t *testing.T) {
	tr := &Transcriber{}
	require.NoError(t, tr.Configure(context.Background(), json.RawMessage(`{"model_name":"custom","language":"en-GB"}`)))

	s := tr.current()
	assert.Equal(t, "custom", s.ModelName)
	assert.Equal(t, "en-GB", s.Language)
	assert.Equal(t, DefaultAcousticModel, s.AcousticModel)
	assert.Equal(t, DefaultMaxAudioSeconds*time.Second, s.maxDuration)

	err := s.checkRequest(sdk.TranscriptionRequest{Audio: strings.NewReader(""), Model: "custom", Language: "en-US"})
	assert.NoError(t, err, "the configured model name and any English variant are accepted")
}

func TestInfoDeclaresNoEgress(t *testing.T) {
	info := Info()
	assert.False(t, info.DataUse.Egress)
	assert.Empty(t, info.DataUse.Hosts)
	assert.Zero(t, info.DataUse.RetentionDays)
	assert.True(t, info.HasCapability(sdk.CapabilityStream))

	provider := sdk.Provider{Info: info, Transcriber: &Transcriber{}}
	assert.NoError(t, provider.Validate())
}

func TestTranscribeCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr := newTestTranscriber(t, Config{})
	_, err := tr.Transcribe(ctx, sdk.TranscriptionRequest{Audio: bytes.NewReader(openAudio(t, "cards-001.wav"))})
	assert.ErrorIs(t, err, context.Canceled)
}
