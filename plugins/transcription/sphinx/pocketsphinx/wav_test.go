package pocketsphinx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// readAllFrames decodes every frame of a WAV file.
func readAllFrames(t *testing.T, wav []byte) ([]float64, wavFormat) {
	t.Helper()
	stream, err := readWAVHeader(bytes.NewReader(wav))
	require.NoError(t, err)
	fr := newFrameReader(stream)
	var out []float64
	buf := make([]float64, 3)
	for {
		n, err := fr.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, stream.Format
		}
		require.NoError(t, err)
	}
}

func TestReadWAVSampleFormats(t *testing.T) {
	values := []float64{0, 0.5, -0.5, 0.25, -1}
	frames := make([][]float64, len(values))
	for i, v := range values {
		frames[i] = []float64{v, v}
	}

	tests := []struct {
		name      string
		spec      wavSpec
		tolerance float64
	}{
		{"pcm 8-bit", wavSpec{code: formatPCM, channels: 2, rate: 8000, bits: 8}, 1.0 / 127},
		{"pcm 16-bit", wavSpec{code: formatPCM, channels: 2, rate: 16000, bits: 16}, 1.0 / 32767},
		{"pcm 24-bit", wavSpec{code: formatPCM, channels: 2, rate: 48000, bits: 24}, 1.0 / 8388607},
		{"pcm 32-bit", wavSpec{code: formatPCM, channels: 2, rate: 96000, bits: 32}, 1e-9},
		{"float 32-bit", wavSpec{code: formatIEEEFloat, channels: 2, rate: 44100, bits: 32}, 1e-7},
		{"float 64-bit", wavSpec{code: formatIEEEFloat, channels: 2, rate: 44100, bits: 64}, 1e-12},
		{"extensible pcm 24-bit", wavSpec{code: formatPCM, channels: 2, rate: 48000, bits: 24, extensible: true}, 1.0 / 8388607},
		{"extensible float", wavSpec{code: formatIEEEFloat, channels: 2, rate: 48000, bits: 32, extensible: true}, 1e-7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, format := readAllFrames(t, buildWAV(tc.spec, frames))
			assert.Equal(t, tc.spec.code, format.Code)
			assert.Equal(t, tc.spec.rate, format.SampleRate)
			require.Len(t, got, len(values))
			for i, want := range values {
				assert.InDelta(t, want, got[i], tc.tolerance+1e-12, "sample %d", i)
			}
		})
	}
}

func TestReadWAVG711(t *testing.T) {
	// Reference points of ITU-T G.711: mu-law 0xFF and A-law 0xD5/0x55
	// are the smallest magnitudes, mu-law 0x00/0x80 the largest.
	assert.Equal(t, int16(0), decodeMuLaw(0xFF))
	assert.Equal(t, int16(-32124), decodeMuLaw(0x00))
	assert.Equal(t, int16(32124), decodeMuLaw(0x80))
	assert.Equal(t, int16(8), decodeALaw(0xD5))
	assert.Equal(t, int16(-8), decodeALaw(0x55))
	assert.Equal(t, int16(32256), decodeALaw(0xAA))
	assert.Equal(t, int16(-32256), decodeALaw(0x2A))

	for _, code := range []uint16{formatMuLaw, formatALaw} {
		wav := buildWAV(wavSpec{code: code, channels: 1, rate: 8000, bits: 8}, nil)
		// Replace the empty data chunk with two samples.
		wav = append(wav[:len(wav)-4], 2, 0, 0, 0, 0xFF, 0x80)
		binary.LittleEndian.PutUint32(wav[4:8], uint32(len(wav)-8))
		got, format := readAllFrames(t, wav)
		assert.Equal(t, code, format.Code)
		assert.Len(t, got, 2)
	}
}

func TestReadWAVSkipsChunksBeforeData(t *testing.T) {
	wav := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: 16000, bits: 16}, [][]float64{{0.5}})
	// Insert an odd-sized LIST chunk, with its pad byte, after fmt.
	list := appendChunk(nil, "LIST", []byte("INFOabc"))
	dataAt := bytes.Index(wav, []byte("data"))
	wav = append(wav[:dataAt:dataAt], append(list, wav[dataAt:]...)...)

	got, _ := readAllFrames(t, wav)
	require.Len(t, got, 1)
	assert.InDelta(t, 0.5, got[0], 1e-4)
}

func TestReadWAVUnknownDataSize(t *testing.T) {
	frames := sineFrames(16000, 1, 100, 0.5, 0.01)
	wav := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: 16000, bits: 16}, frames)
	binary.LittleEndian.PutUint32(wav[40:44], unknownDataSize)
	// A trailing odd byte is a partial frame and is dropped.
	wav = append(wav, 0x7f)

	stream, err := readWAVHeader(bytes.NewReader(wav))
	require.NoError(t, err)
	assert.EqualValues(t, -1, stream.DataSize)
	assert.EqualValues(t, -1, stream.Frames())
	got, _ := readAllFrames(t, wav)
	assert.Len(t, got, len(frames))
}

func TestReadWAVRejects(t *testing.T) {
	good := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: 16000, bits: 16}, [][]float64{{0}, {0}})
	withFmt := func(edit func(fmtBody []byte)) []byte {
		wav := bytes.Clone(good)
		edit(wav[20:36])
		return wav
	}

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than a RIFF header"},
		{"mp3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00"), `starts with "ID3\x04"`},
		{"rf64", append([]byte("RF64\xff\xff\xff\xffWAVE"), good[12:]...), "RF64"},
		{"no data chunk", good[:36], "no data chunk"},
		{"data before fmt", append(bytes.Clone(good[:12]), good[36:]...), "data chunk comes before the fmt chunk"},
		{"short fmt", append(bytes.Clone(good[:12]), "fmt \x08\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00"...), "fmt chunk is 8 bytes"},
		{"adpcm", withFmt(func(b []byte) { binary.LittleEndian.PutUint16(b[0:], 2) }), "format code 0x0002 is not supported"},
		{"12-bit pcm", withFmt(func(b []byte) { binary.LittleEndian.PutUint16(b[14:], 12) }), "12 bits per sample"},
		{"no channels", withFmt(func(b []byte) { binary.LittleEndian.PutUint16(b[2:], 0) }), "0 channels"},
		{"9 channels", withFmt(func(b []byte) { binary.LittleEndian.PutUint16(b[2:], 9) }), "9 channels"},
		{"4 kHz", withFmt(func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 4000) }), "sample rate 4000 Hz"},
		{"bad block align", withFmt(func(b []byte) { binary.LittleEndian.PutUint16(b[12:], 4) }), "block align is 4 bytes"},
		{"huge chunk", append(append(bytes.Clone(good[:12]), "JUNK\xff\xff\xff\x7f"...), good[12:]...), `chunk "JUNK" declares`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readWAVHeader(bytes.NewReader(tc.data))
			require.Error(t, err)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReadWAVTruncatedData(t *testing.T) {
	wav := buildWAV(wavSpec{code: formatPCM, channels: 1, rate: 16000, bits: 16}, sineFrames(16000, 1, 100, 0.5, 0.1))
	stream, err := readWAVHeader(bytes.NewReader(wav[:len(wav)-100]))
	require.NoError(t, err)

	fr := newFrameReader(stream)
	buf := make([]float64, frameBlock)
	_, err = fr.Read(buf)
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Contains(t, err.Error(), "declares 3200 bytes but the stream ended after 3100")
}
