package pocketsphinx

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convertWAV runs the whole conversion of a WAV file and returns the 16 kHz
// mono samples it sends to the decoder.
func convertWAV(t *testing.T, wav []byte) []float64 {
	t.Helper()
	conv, err := newConversion(bytes.NewReader(wav), 0x7fffffff*1e9)
	require.NoError(t, err)
	var pcm bytes.Buffer
	_, err = conv.WriteTo(&pcm)
	require.NoError(t, err)

	raw := pcm.Bytes()
	samples := make([]float64, len(raw)/2)
	for i := range samples {
		samples[i] = float64(int16(binary.LittleEndian.Uint16(raw[2*i:]))) / 32768
	}
	return samples
}

// steady drops the first and last 50 ms, where the filter reaches the
// silence outside the signal.
func steady(samples []float64) []float64 {
	edge := modelRate / 20
	return samples[edge : len(samples)-edge]
}

func TestConvertSine44100Stereo(t *testing.T) {
	const seconds = 2.0
	spec := wavSpec{code: formatPCM, channels: 2, rate: 44100, bits: 16}

	t.Run("1 kHz keeps its frequency and level", func(t *testing.T) {
		out := convertWAV(t, buildWAV(spec, sineFrames(44100, 2, 1000, 0.5, seconds)))

		assert.Len(t, out, int(seconds*modelRate))
		body := steady(out)
		assert.InDelta(t, 1000*float64(len(body))/modelRate, zeroCrossings(body), 1)
		assert.InDelta(t, 0.5, toneAmplitude(body, modelRate, 1000), 0.005)
		assert.Less(t, toneAmplitude(body, modelRate, 1100), 0.001, "no energy beside the tone")
	})

	t.Run("10 kHz tone does not alias", func(t *testing.T) {
		out := convertWAV(t, buildWAV(spec, sineFrames(44100, 2, 10000, 0.5, seconds)))

		// Decimating without a low-pass filter would fold 10 kHz to
		// 16 - 10 = 6 kHz at half the input level.
		body := steady(out)
		assert.Less(t, toneAmplitude(body, modelRate, 6000), 0.5e-3, "alias at 6 kHz is below -60 dB")
		assert.Less(t, rms(body), 0.5e-3, "nothing of the tone passes")
	})

	t.Run("channels are averaged", func(t *testing.T) {
		frames := sineFrames(44100, 2, 1000, 0.5, seconds)
		for _, frame := range frames {
			frame[1] = -frame[1] // opposite phases cancel
		}
		out := convertWAV(t, buildWAV(spec, frames))
		assert.Less(t, rms(steady(out)), 1e-4)
	})
}

func rms(samples []float64) float64 {
	sum := 0.0
	for _, s := range samples {
		sum += s * s
	}
	return math.Sqrt(sum / float64(len(samples)))
}

func TestConvertCommonRates(t *testing.T) {
	const seconds = 1.0
	for _, rate := range []int{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 192000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			// 440 Hz lies in every passband, 3 kHz in all but the 8 kHz
			// one, whose passband ends at 3.6 kHz.
			for _, freq := range []float64{440, 3000} {
				out := convertWAV(t, buildWAV(wavSpec{code: formatPCM, channels: 1, rate: rate, bits: 16}, sineFrames(rate, 1, freq, 0.5, seconds)))
				require.Len(t, out, int(seconds*modelRate))
				body := steady(out)
				assert.InDelta(t, freq*float64(len(body))/modelRate, zeroCrossings(body), 1, "%g Hz", freq)
				assert.InDelta(t, 0.5, toneAmplitude(body, modelRate, freq), 0.005, "%g Hz", freq)
			}
		})
	}
}

func TestResamplerBlockSizeDoesNotMatter(t *testing.T) {
	frames := sineFrames(44100, 1, 1234, 0.7, 0.5)
	input := make([]float64, len(frames))
	for i, f := range frames {
		input[i] = f[0]
	}

	whole := resampleAll(t, input, 44100, modelRate)
	for _, block := range []int{1, 7, 441, 5000} {
		rs, err := newResampler(44100, modelRate)
		require.NoError(t, err)
		var out []float64
		for start := 0; start < len(input); start += block {
			out = rs.Process(input[start:min(start+block, len(input))], out)
		}
		out = rs.Flush(out)
		require.Len(t, out, len(whole), "block %d", block)
		for i := range out {
			if math.Abs(out[i]-whole[i]) > 1e-12 {
				t.Fatalf("block %d: sample %d is %g, want %g", block, i, out[i], whole[i])
			}
		}
	}
}

func TestResamplerLength(t *testing.T) {
	tests := []struct {
		from, inputs, want int
	}{
		{44100, 441, 160},
		{44100, 442, 161}, // ceil(442*160/441)
		{8000, 3, 6},
		{48000, 4, 2},
		{16000, 5, 5},
	}
	for _, tc := range tests {
		out := resampleAll(t, make([]float64, tc.inputs), tc.from, modelRate)
		assert.Len(t, out, tc.want, "%d samples at %d Hz", tc.inputs, tc.from)
	}
}

func TestResamplerRejectsFineRatio(t *testing.T) {
	_, err := newResampler(44101, modelRate)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "44101 Hz cannot be converted")
}

func TestFilterIsCached(t *testing.T) {
	a, err := filterFor(44100, modelRate)
	require.NoError(t, err)
	b, err := filterFor(44100, modelRate)
	require.NoError(t, err)
	assert.Same(t, a, b)
	// N = 72 / (2.285 * 2pi * 800/44100) = 276.9 taps, rounded up to an
	// even 278.
	assert.Equal(t, "polyphase filter L=160 M=441 taps=278", a.String())
}
