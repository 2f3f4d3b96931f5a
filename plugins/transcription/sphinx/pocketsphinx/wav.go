package pocketsphinx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/healthhub/healthhub/sdk"
)

// WAV format codes (the wFormatTag of the fmt chunk).
const (
	formatPCM        = 0x0001
	formatIEEEFloat  = 0x0003
	formatALaw       = 0x0006
	formatMuLaw      = 0x0007
	formatExtensible = 0xFFFE
)

// Limits of the accepted WAV streams.
const (
	minSampleRate = 8000
	maxSampleRate = 192000
	maxChannels   = 8
	// unknownDataSize is the data chunk size that streaming writers put in
	// the header when they do not know the length. The data then runs to
	// the end of the stream.
	unknownDataSize = 0xFFFFFFFF
	// maxSkippedChunk bounds the size of a chunk before the data chunk
	// (LIST, fact, bext...), so a corrupt size cannot make the reader skip
	// without limit.
	maxSkippedChunk = 16 << 20
)

// extensibleSuffix is the tail shared by the KSDATAFORMAT_SUBTYPE GUIDs of
// WAVE_FORMAT_EXTENSIBLE: the subformat's first two bytes are the plain
// format code and the other fourteen are these.
var extensibleSuffix = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// wavFormat describes the samples of a WAV stream.
type wavFormat struct {
	// Code is the sample encoding: formatPCM, formatIEEEFloat, formatALaw
	// or formatMuLaw (an extensible stream is reduced to its subformat).
	Code       uint16
	Channels   int
	SampleRate int
	// BitsPerSample is the container size of one sample, in bits.
	BitsPerSample int
	// BlockAlign is the size of one frame (one sample of every channel),
	// in bytes.
	BlockAlign int
}

// wavStream is a parsed WAV header with a reader positioned at the first
// byte of the data chunk.
type wavStream struct {
	Format wavFormat
	// DataSize is the length of the sample data in bytes, or -1 when the
	// header does not give it and the data runs to the end of the stream.
	DataSize int64
	data     io.Reader
}

// Frames returns the number of frames in the data chunk, or -1 when the
// size is unknown.
func (s *wavStream) Frames() int64 {
	if s.DataSize < 0 {
		return -1
	}
	return s.DataSize / int64(s.Format.BlockAlign)
}

// invalidWAV returns an invalid-input outcome about the audio.
func invalidWAV(format string, args ...any) error {
	return sdk.Invalidf("", "read wav: "+format, args...)
}

// readWAVHeader reads the RIFF header, the fmt chunk and the chunks up to the
// data chunk. Errors about the content are invalid-input outcomes that name
// what was expected.
func readWAVHeader(r io.Reader) (*wavStream, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return nil, invalidWAV("the audio is shorter than a RIFF header (12 bytes); send a WAV file")
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		if string(riff[0:4]) == "RF64" {
			return nil, invalidWAV("RF64 (WAV larger than 4 GiB) is not supported; split the recording")
		}
		return nil, invalidWAV("the audio does not start with RIFF....WAVE (starts with %q); send a WAV file", riff[0:4])
	}

	var format *wavFormat
	for {
		var header [8]byte
		if _, err := io.ReadFull(r, header[:]); err != nil {
			return nil, invalidWAV("no data chunk found before the end of the stream")
		}
		id := string(header[0:4])
		size := binary.LittleEndian.Uint32(header[4:8])

		switch id {
		case "fmt ":
			f, err := readFormatChunk(r, size)
			if err != nil {
				return nil, err
			}
			format = f
		case "data":
			if format == nil {
				return nil, invalidWAV("the data chunk comes before the fmt chunk")
			}
			return newWAVStream(r, *format, size), nil
		default:
			if err := skipChunk(r, id, size); err != nil {
				return nil, err
			}
		}
	}
}

func newWAVStream(r io.Reader, format wavFormat, size uint32) *wavStream {
	if size == unknownDataSize {
		return &wavStream{Format: format, DataSize: -1, data: r}
	}
	return &wavStream{Format: format, DataSize: int64(size), data: r}
}

func skipChunk(r io.Reader, id string, size uint32) error {
	if size > maxSkippedChunk {
		return invalidWAV("chunk %q declares %d bytes, more than the %d accepted before the data chunk", id, size, maxSkippedChunk)
	}
	// Chunks are padded to an even length.
	n := int64(size) + int64(size%2)
	if _, err := io.CopyN(io.Discard, r, n); err != nil {
		return invalidWAV("chunk %q declares %d bytes but the stream ends inside it", id, size)
	}
	return nil
}

func readFormatChunk(r io.Reader, size uint32) (*wavFormat, error) {
	if size < 16 || size > 1024 {
		return nil, invalidWAV("fmt chunk is %d bytes; expected 16 to 1024", size)
	}
	chunk := make([]byte, int(size)+int(size%2))
	if _, err := io.ReadFull(r, chunk); err != nil {
		return nil, invalidWAV("fmt chunk declares %d bytes but the stream ends inside it", size)
	}

	f := wavFormat{
		Code:          binary.LittleEndian.Uint16(chunk[0:2]),
		Channels:      int(binary.LittleEndian.Uint16(chunk[2:4])),
		SampleRate:    int(binary.LittleEndian.Uint32(chunk[4:8])),
		BlockAlign:    int(binary.LittleEndian.Uint16(chunk[12:14])),
		BitsPerSample: int(binary.LittleEndian.Uint16(chunk[14:16])),
	}
	if f.Code == formatExtensible {
		code, err := extensibleSubformat(chunk[:size])
		if err != nil {
			return nil, err
		}
		f.Code = code
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// extensibleSubformat returns the plain format code of a
// WAVE_FORMAT_EXTENSIBLE fmt chunk.
func extensibleSubformat(chunk []byte) (uint16, error) {
	// 16 bytes of the plain header, cbSize (2), valid bits (2), channel
	// mask (4) and the 16-byte subformat GUID.
	if len(chunk) < 40 {
		return 0, invalidWAV("extensible fmt chunk is %d bytes; expected at least 40", len(chunk))
	}
	guid := chunk[24:40]
	if !bytes.Equal(guid[2:], extensibleSuffix) {
		return 0, invalidWAV("extensible WAV subformat %x is not supported; send PCM or IEEE float samples", guid)
	}
	return binary.LittleEndian.Uint16(guid[0:2]), nil
}

func (f wavFormat) validate() error {
	switch f.Code {
	case formatPCM:
		if f.BitsPerSample != 8 && f.BitsPerSample != 16 && f.BitsPerSample != 24 && f.BitsPerSample != 32 {
			return invalidWAV("PCM with %d bits per sample is not supported; use 8, 16, 24 or 32", f.BitsPerSample)
		}
	case formatIEEEFloat:
		if f.BitsPerSample != 32 && f.BitsPerSample != 64 {
			return invalidWAV("IEEE float with %d bits per sample is not supported; use 32 or 64", f.BitsPerSample)
		}
	case formatALaw, formatMuLaw:
		if f.BitsPerSample != 8 {
			return invalidWAV("G.711 audio with %d bits per sample is not supported; it must be 8", f.BitsPerSample)
		}
	default:
		return invalidWAV("WAV format code 0x%04x is not supported; send PCM, IEEE float, A-law or mu-law samples", f.Code)
	}
	if f.Channels < 1 || f.Channels > maxChannels {
		return invalidWAV("%d channels is not supported; send 1 to %d channels", f.Channels, maxChannels)
	}
	if f.SampleRate < minSampleRate || f.SampleRate > maxSampleRate {
		return invalidWAV("sample rate %d Hz is outside the supported range %d to %d Hz", f.SampleRate, minSampleRate, maxSampleRate)
	}
	if want := f.Channels * f.BitsPerSample / 8; f.BlockAlign != want {
		return invalidWAV("block align is %d bytes; %d channels of %d bits need %d", f.BlockAlign, f.Channels, f.BitsPerSample, want)
	}
	return nil
}

// frameReader decodes the frames of a WAV stream into mono samples in
// [-1, 1], averaging the channels.
type frameReader struct {
	stream    *wavStream
	remaining int64 // bytes left in the data chunk, or -1 when unknown
	raw       []byte
	decode    func([]byte) float64
	frames    int64 // frames decoded so far
}

// frameBlock is the number of frames read from the stream at a time.
const frameBlock = 4096

func newFrameReader(s *wavStream) *frameReader {
	return &frameReader{
		stream:    s,
		remaining: s.DataSize,
		raw:       make([]byte, frameBlock*s.Format.BlockAlign),
		decode:    sampleDecoder(s.Format),
	}
}

// Read decodes up to len(dst) frames into dst and returns how many it
// decoded. It returns io.EOF at the end of the data chunk. A data chunk that
// ends early is an invalid-input outcome, and a partial frame at the end of
// the data is dropped.
func (fr *frameReader) Read(dst []float64) (int, error) {
	align := fr.stream.Format.BlockAlign
	want := min(len(dst), frameBlock) * align
	if fr.remaining >= 0 {
		if fr.remaining < int64(align) {
			return 0, io.EOF
		}
		want = int(min(int64(want), fr.remaining/int64(align)*int64(align)))
	}

	n, err := io.ReadFull(fr.stream.data, fr.raw[:want])
	n -= n % align
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, fmt.Errorf("read wav data: %w", err)
	}
	if err != nil && fr.remaining >= 0 {
		return 0, invalidWAV("data chunk declares %d bytes but the stream ended after %d", fr.stream.DataSize, fr.stream.DataSize-fr.remaining+int64(n))
	}
	if n == 0 {
		return 0, io.EOF
	}
	if fr.remaining >= 0 {
		fr.remaining -= int64(n)
	}

	frames := n / align
	fr.mixDown(fr.raw[:n], dst[:frames])
	fr.frames += int64(frames)
	return frames, nil
}

func (fr *frameReader) mixDown(raw []byte, dst []float64) {
	channels := fr.stream.Format.Channels
	width := fr.stream.Format.BitsPerSample / 8
	scale := 1 / float64(channels)
	for i := range dst {
		frame := raw[i*channels*width : (i+1)*channels*width]
		sum := 0.0
		for c := 0; c < channels; c++ {
			sum += fr.decode(frame[c*width : (c+1)*width])
		}
		dst[i] = sum * scale
	}
}

// sampleDecoder returns the function that turns one little-endian sample of
// format f into a value in [-1, 1].
func sampleDecoder(f wavFormat) func([]byte) float64 {
	switch {
	case f.Code == formatALaw:
		return func(b []byte) float64 { return float64(decodeALaw(b[0])) / 32768 }
	case f.Code == formatMuLaw:
		return func(b []byte) float64 { return float64(decodeMuLaw(b[0])) / 32768 }
	case f.Code == formatIEEEFloat && f.BitsPerSample == 32:
		return func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }
	case f.Code == formatIEEEFloat:
		return func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
	case f.BitsPerSample == 8:
		// 8-bit PCM is unsigned with its zero at 128.
		return func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }
	case f.BitsPerSample == 16:
		return func(b []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(b))) / (1 << 15) }
	case f.BitsPerSample == 24:
		return func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}
	default:
		return func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31) }
	}
}

// decodeMuLaw expands one ITU-T G.711 mu-law byte to a 16-bit linear sample.
func decodeMuLaw(b byte) int16 {
	b = ^b
	exponent := (b >> 4) & 0x07
	mantissa := int32(b & 0x0F)
	magnitude := ((mantissa << 3) + 0x84) << exponent
	magnitude -= 0x84
	if b&0x80 != 0 {
		return int16(-magnitude)
	}
	return int16(magnitude)
}

// decodeALaw expands one ITU-T G.711 A-law byte to a 16-bit linear sample.
func decodeALaw(b byte) int16 {
	b ^= 0x55
	exponent := (b >> 4) & 0x07
	mantissa := int32(b & 0x0F)
	var magnitude int32
	if exponent == 0 {
		magnitude = mantissa<<4 + 8
	} else {
		magnitude = (mantissa<<4 + 0x108) << (exponent - 1)
	}
	if b&0x80 != 0 {
		return int16(magnitude)
	}
	return int16(-magnitude)
}
