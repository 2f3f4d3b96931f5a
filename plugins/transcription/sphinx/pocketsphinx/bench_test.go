package pocketsphinx

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// BenchmarkTranscribe transcribes each test clip and reports the real-time
// factor: processing time divided by audio length, so below 1 is faster
// than real time. The decoder process starts and loads its models in every
// iteration, as it does for every request.
func BenchmarkTranscribe(b *testing.B) {
	requireSphinx(b)
	tr, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, ref := range readTranscripts(b) {
		audio := openAudio(b, ref.file)
		b.Run(ref.file, func(b *testing.B) {
			var audioLength time.Duration
			for b.Loop() {
				transcript, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(audio)})
				if err != nil {
					b.Fatal(err)
				}
				audioLength += transcript.Duration
			}
			b.ReportMetric(b.Elapsed().Seconds()/audioLength.Seconds(), "rtf")
		})
	}
}

// BenchmarkConvert measures the WAV decoding, mixing and resampling alone,
// on one minute of 44.1 kHz stereo, and reports how many times faster than
// real time it runs.
func BenchmarkConvert(b *testing.B) {
	const seconds = 60
	wav := buildWAV(wavSpec{code: formatPCM, channels: 2, rate: 44100, bits: 16}, sineFrames(44100, 2, 440, 0.5, seconds))
	b.SetBytes(int64(len(wav)))
	for b.Loop() {
		conv, err := newConversion(bytes.NewReader(wav), time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conv.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}
