package sdktest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

// energyTranscriber is the reference transcriber of these tests. It reads
// 16-bit mono PCM WAV and reports each stretch of sound between silences
// as a segment whose text names its time span. It checks its input the
// way a real provider must, which is what the suite exercises.
type energyTranscriber struct{}

const maxAudioBytes = 16 << 20

func (energyTranscriber) Transcribe(ctx context.Context, req sdk.TranscriptionRequest) (*sdk.Transcript, error) {
	return energyTranscriber{}.TranscribeStream(ctx, req, func(sdk.Segment) error { return nil })
}

func (energyTranscriber) TranscribeStream(ctx context.Context, req sdk.TranscriptionRequest, emit func(sdk.Segment) error) (*sdk.Transcript, error) {
	if req.ContentType != "audio/wav" {
		return nil, sdk.Invalidf("", "transcribe: content type %q is not supported; send audio/wav", req.ContentType)
	}
	data, err := readAllContext(ctx, req.Audio, maxAudioBytes)
	if err != nil {
		return nil, err
	}
	samples, rate, err := decodeWAV(data)
	if err != nil {
		return nil, err
	}

	out := &sdk.Transcript{Language: "und", Model: "energy-v1", Duration: time.Duration(len(samples)) * time.Second / time.Duration(rate)}
	for _, seg := range segmentsBySound(samples, rate) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := emit(seg); err != nil {
			return nil, err
		}
		out.Segments = append(out.Segments, seg)
	}
	texts := make([]string, len(out.Segments))
	for i, s := range out.Segments {
		texts[i] = s.Text
	}
	out.Text = strings.Join(texts, " ")
	if out.Text == "" {
		out.Text = "silence"
	}
	return out, nil
}

// decodeWAV reads a canonical 16-bit mono PCM WAV file.
func decodeWAV(data []byte) ([]int16, int, error) {
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, sdk.Invalidf("", "transcribe: the audio is not a RIFF/WAVE file")
	}
	format := binary.LittleEndian.Uint16(data[20:22])
	channels := binary.LittleEndian.Uint16(data[22:24])
	rate := int(binary.LittleEndian.Uint32(data[24:28]))
	bits := binary.LittleEndian.Uint16(data[34:36])
	if format != 1 || channels != 1 || bits != 16 || rate <= 0 {
		return nil, 0, sdk.Invalidf("", "transcribe: only 16-bit mono PCM is supported")
	}
	size := int(binary.LittleEndian.Uint32(data[40:44]))
	if string(data[36:40]) != "data" || 44+size > len(data) {
		return nil, 0, sdk.Invalidf("", "transcribe: the WAV data chunk is missing or truncated")
	}
	samples := make([]int16, size/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(data[44+2*i:]))
	}
	if len(samples) == 0 {
		return nil, 0, sdk.Invalidf("", "transcribe: the recording is empty")
	}
	return samples, rate, nil
}

// segmentsBySound splits samples into 100 ms windows and joins loud
// windows into segments.
func segmentsBySound(samples []int16, rate int) []sdk.Segment {
	window := rate / 10
	var out []sdk.Segment
	start, peak := -1, 0.0
	for i := 0; i <= len(samples); i += window {
		loud := false
		if i < len(samples) {
			rms := windowRMS(samples[i:min(i+window, len(samples))])
			loud, peak = rms > 1000, math.Max(peak, rms)
		}
		switch {
		case loud && start < 0:
			start = i
		case !loud && start >= 0:
			from := time.Duration(start) * time.Second / time.Duration(rate)
			to := time.Duration(min(i, len(samples))) * time.Second / time.Duration(rate)
			out = append(out, sdk.Segment{Start: from, End: to, Text: fmt.Sprintf("sound %.1f-%.1f", from.Seconds(), to.Seconds()), Confidence: math.Min(peak/32768, 1)})
			start, peak = -1, 0
		}
	}
	return out
}

func windowRMS(w []int16) float64 {
	var sum float64
	for _, s := range w {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(w)))
}

// toneWAV returns a 16 kHz WAV with a 440 Hz tone for each true entry of
// pattern and silence for each false one, each entry 500 ms long.
func toneWAV(pattern ...bool) []byte {
	const rate = 16000
	var pcm bytes.Buffer
	for _, tone := range pattern {
		for i := range rate / 2 {
			var v int16
			if tone {
				v = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
			}
			binary.Write(&pcm, binary.LittleEndian, v)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(36+pcm.Len()))
	out.WriteString("WAVEfmt ")
	for _, field := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&out, binary.LittleEndian, field)
	}
	out.WriteString("data")
	binary.Write(&out, binary.LittleEndian, uint32(pcm.Len()))
	out.Write(pcm.Bytes())
	return out.Bytes()
}

func transcriptionCase() sdktest.TranscriptionCase {
	return sdktest.TranscriptionCase{
		Audio:       toneWAV(false, true, true, false, true, false),
		ContentType: "audio/wav",
		WantText:    []string{"sound 0.5-1.5", "sound 2.0-2.5"},
	}
}

func TestTranscriptionSuiteInProcess(t *testing.T) {
	sdktest.Transcription(t, func(*testing.T) sdk.Transcriber { return energyTranscriber{} }, transcriptionCase())
}

func TestTranscriptionSuiteLoopback(t *testing.T) {
	sdktest.Transcription(t, func(t *testing.T) sdk.Transcriber {
		remote := sdktest.Loopback(t, sdk.Provider{
			Info:        sdk.Info{Name: "energy", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindTranscription}, Capabilities: []string{sdk.CapabilityStream}},
			Transcriber: energyTranscriber{},
		})
		return remote.Transcriber
	}, transcriptionCase())
}
