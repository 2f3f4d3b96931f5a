package pocketsphinx

import (
	"bufio"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// audioDir is the project's audio test data.
var audioDir = filepath.Join("..", "..", "..", "..", "testdata", "audio")

// requireSphinx skips the test when pocketsphinx is not installed, unless
// HUB_REQUIRE_SPHINX is set, in which case the test fails.
func requireSphinx(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(DefaultProgram); err == nil {
		if _, err := os.Stat(filepath.Join(DefaultAcousticModel, "mdef")); err == nil {
			return
		}
	}
	if os.Getenv("HUB_REQUIRE_SPHINX") != "" {
		t.Fatalf("pocketsphinx is not installed and HUB_REQUIRE_SPHINX is set; run scripts/install-deps.sh")
	}
	t.Skip("pocketsphinx is not installed; run scripts/install-deps.sh (set HUB_REQUIRE_SPHINX=1 to fail instead of skipping)")
}

// reference is one row of transcripts.tsv.
type reference struct {
	file, transcript string
}

func readTranscripts(t testing.TB) []reference {
	t.Helper()
	f, err := os.Open(filepath.Join(audioDir, "transcripts.tsv"))
	require.NoError(t, err)
	defer f.Close()

	var refs []reference
	scanner := bufio.NewScanner(f)
	scanner.Scan() // header
	for scanner.Scan() {
		fields := strings.Split(scanner.Text(), "\t")
		require.GreaterOrEqual(t, len(fields), 2, "transcripts.tsv row %q", scanner.Text())
		refs = append(refs, reference{file: fields[0], transcript: fields[1]})
	}
	require.NoError(t, scanner.Err())
	require.NotEmpty(t, refs)
	return refs
}

// normalizeWords lowercases text and splits it into words, treating every
// character other than a letter, digit or apostrophe as a separator.
func normalizeWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// wordErrorRate is the word-level Levenshtein distance between hypothesis
// and reference divided by the number of reference words.
func wordErrorRate(reference, hypothesis string) float64 {
	ref, hyp := normalizeWords(reference), normalizeWords(hypothesis)
	if len(ref) == 0 {
		if len(hyp) == 0 {
			return 0
		}
		return 1
	}
	previous := make([]int, len(hyp)+1)
	current := make([]int, len(hyp)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		current[0] = i
		for j := 1; j <= len(hyp); j++ {
			substitution := previous[j-1]
			if ref[i-1] != hyp[j-1] {
				substitution++
			}
			current[j] = min(substitution, previous[j]+1, current[j-1]+1)
		}
		previous, current = current, previous
	}
	return float64(previous[len(hyp)]) / float64(len(ref))
}

// sharedWordFraction is the fraction of reference words that also occur in
// the hypothesis, counting each hypothesis word once.
func sharedWordFraction(reference, hypothesis string) float64 {
	ref := normalizeWords(reference)
	if len(ref) == 0 {
		return 0
	}
	available := map[string]int{}
	for _, w := range normalizeWords(hypothesis) {
		available[w]++
	}
	shared := 0
	for _, w := range ref {
		if available[w] > 0 {
			available[w]--
			shared++
		}
	}
	return float64(shared) / float64(len(ref))
}

// wavSpec describes a WAV file for buildWAV.
type wavSpec struct {
	code       uint16
	channels   int
	rate       int
	bits       int
	extensible bool
}

// buildWAV encodes frames (one slice of channel values in [-1, 1] per
// frame) as a WAV file.
func buildWAV(spec wavSpec, frames [][]float64) []byte {
	width := spec.bits / 8
	var data []byte
	for _, frame := range frames {
		for _, v := range frame {
			data = appendSample(data, spec, v)
		}
	}

	fmtChunk := binary.LittleEndian.AppendUint16(nil, spec.code)
	if spec.extensible {
		fmtChunk = binary.LittleEndian.AppendUint16(nil, formatExtensible)
	}
	fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(spec.channels))
	fmtChunk = binary.LittleEndian.AppendUint32(fmtChunk, uint32(spec.rate))
	fmtChunk = binary.LittleEndian.AppendUint32(fmtChunk, uint32(spec.rate*spec.channels*width))
	fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(spec.channels*width))
	fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(spec.bits))
	if spec.extensible {
		fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, 22)
		fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, uint16(spec.bits))
		fmtChunk = binary.LittleEndian.AppendUint32(fmtChunk, 0)
		fmtChunk = binary.LittleEndian.AppendUint16(fmtChunk, spec.code)
		fmtChunk = append(fmtChunk, extensibleSuffix...)
	}

	var out []byte
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(4+8+len(fmtChunk)+8+len(data)))
	out = append(out, "WAVE"...)
	out = appendChunk(out, "fmt ", fmtChunk)
	out = appendChunk(out, "data", data)
	return out
}

func appendChunk(out []byte, id string, body []byte) []byte {
	out = append(out, id...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	out = append(out, body...)
	if len(body)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

func appendSample(out []byte, spec wavSpec, v float64) []byte {
	switch {
	case spec.code == formatIEEEFloat && spec.bits == 32:
		return binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
	case spec.code == formatIEEEFloat:
		return binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	case spec.bits == 8:
		return append(out, byte(math.Round(v*127)+128))
	case spec.bits == 16:
		return binary.LittleEndian.AppendUint16(out, uint16(int16(math.Round(v*32767))))
	case spec.bits == 24:
		s := int32(math.Round(v * 8388607))
		return append(out, byte(s), byte(s>>8), byte(s>>16))
	default:
		return binary.LittleEndian.AppendUint32(out, uint32(int32(math.Round(v*2147483647))))
	}
}

// sineFrames returns seconds of a sine of freq Hz at rate, with amplitude
// amp, the same on every channel.
func sineFrames(rate, channels int, freq, amp, seconds float64) [][]float64 {
	n := int(float64(rate) * seconds)
	frames := make([][]float64, n)
	for i := range frames {
		v := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		frame := make([]float64, channels)
		for c := range frame {
			frame[c] = v
		}
		frames[i] = frame
	}
	return frames
}

// toneAmplitude returns the amplitude of the freq Hz component of samples
// at rate, by correlating with a sine and a cosine over the whole signal.
func toneAmplitude(samples []float64, rate int, freq float64) float64 {
	var re, im float64
	for i, s := range samples {
		phase := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += s * math.Cos(phase)
		im += s * math.Sin(phase)
	}
	return 2 * math.Hypot(re, im) / float64(len(samples))
}

// zeroCrossings counts sign changes from negative to non-negative.
func zeroCrossings(samples []float64) int {
	n := 0
	for i := 1; i < len(samples); i++ {
		if samples[i-1] < 0 && samples[i] >= 0 {
			n++
		}
	}
	return n
}
