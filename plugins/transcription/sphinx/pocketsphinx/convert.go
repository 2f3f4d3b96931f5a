package pocketsphinx

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// modelRate is the sample rate of the PocketSphinx en-us acoustic model, in
// Hz. Audio reaches the decoder as 16-bit mono PCM at this rate.
const modelRate = 16000

// conversion turns a WAV stream into the raw 16 kHz, 16-bit, mono,
// little-endian PCM that the decoder reads.
type conversion struct {
	stream    *wavStream
	frames    *frameReader
	resampler *resampler
	// maxFrames is the maximum number of input frames, from the configured
	// maximum duration.
	maxFrames int64
}

// newConversion reads the WAV header from r and prepares the conversion.
// Audio longer than maxDuration is rejected with ErrTooLarge, before any
// work when the header gives the length.
func newConversion(r io.Reader, maxDuration time.Duration) (*conversion, error) {
	stream, err := readWAVHeader(r)
	if err != nil {
		return nil, err
	}
	rs, err := newResampler(stream.Format.SampleRate, modelRate)
	if err != nil {
		return nil, err
	}

	c := &conversion{
		stream:    stream,
		frames:    newFrameReader(stream),
		resampler: rs,
		maxFrames: int64(maxDuration.Seconds() * float64(stream.Format.SampleRate)),
	}
	if n := stream.Frames(); n > c.maxFrames {
		return nil, c.tooLong(n)
	}
	if stream.Frames() == 0 {
		return nil, invalidWAV("the data chunk holds no audio samples")
	}
	return c, nil
}

func (c *conversion) tooLong(frames int64) error {
	rate := int64(c.stream.Format.SampleRate)
	return sdk.Errorf(sdk.CodeTooLong, "transcribe: the audio is longer than %s (it has at least %s); raise max_audio_seconds or split the recording",
		time.Duration(c.maxFrames*int64(time.Second)/rate), time.Duration(frames*int64(time.Second)/rate))
}

// Duration is the length of the audio converted so far.
func (c *conversion) Duration() time.Duration {
	return time.Duration(c.frames.frames * int64(time.Second) / int64(c.stream.Format.SampleRate))
}

// WriteTo converts the whole stream and writes the PCM to w.
func (c *conversion) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	in := make([]float64, frameBlock)
	out := make([]float64, 0, frameBlock*2)
	pcm := make([]byte, 0, frameBlock*4)
	var written int64

	for {
		n, err := c.frames.Read(in)
		if err != nil && !errors.Is(err, io.EOF) {
			return written, err
		}
		if c.frames.frames > c.maxFrames {
			return written, c.tooLong(c.frames.frames)
		}

		if errors.Is(err, io.EOF) {
			out = c.resampler.Flush(out[:0])
		} else {
			out = c.resampler.Process(in[:n], out[:0])
		}
		pcm = appendPCM16(pcm[:0], out)
		m, werr := bw.Write(pcm)
		written += int64(m)
		if werr != nil {
			return written, fmt.Errorf("%w: %w", errDecoderInput, werr)
		}

		if errors.Is(err, io.EOF) {
			break
		}
	}

	if c.frames.frames == 0 {
		return written, invalidWAV("the data chunk holds no audio samples")
	}
	if err := bw.Flush(); err != nil {
		return written, fmt.Errorf("%w: %w", errDecoderInput, err)
	}
	return written, nil
}

// errDecoderInput wraps the errors of writing PCM to the decoder, as opposed
// to reading the audio.
var errDecoderInput = errors.New("send audio to the decoder")

// appendPCM16 appends samples in [-1, 1] as 16-bit little-endian PCM,
// rounding and clipping.
func appendPCM16(dst []byte, samples []float64) []byte {
	for _, s := range samples {
		if math.IsNaN(s) {
			s = 0
		}
		v := math.Round(s * 32767)
		v = max(-32768, min(32767, v))
		dst = binary.LittleEndian.AppendUint16(dst, uint16(int16(v)))
	}
	return dst
}
