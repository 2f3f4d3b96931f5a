package pocketsphinx

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// decoderOutput is real pocketsphinx_continuous 5prealpha output for two
// utterances, followed by an utterance without a hypothesis line and one
// with only fillers.
const decoderOutput = `he was not an illness those young man
<s> 2.880 2.980 0.999200
<sil> 2.990 3.080 0.436138
he 3.220 3.330 0.998601
was(2) 3.340 3.550 0.999600
not 3.560 3.980 0.998501
[SPEECH] 3.990 4.110 0.535598
an(2) 4.120 4.300 0.472940
illness 4.310 4.690 0.834168
those 4.700 5.050 0.055875
young 5.060 5.330 0.050806
man 5.340 5.800 0.905008
</s> 5.810 6.100 1.000000
ten of clubs
<s> 8.890 9.150 0.999600
ten 9.160 9.330 0.028155
of 9.340 9.450 0.386544
clubs 9.460 9.970 0.052442
</s> 9.980 10.380 1.000000
<s> 11.000 11.100 0.999000
up(2) 11.110 11.300 0.500000
</s> 11.310 11.400 1.000000

<s> 12.000 12.100 0.999000
[NOISE] 12.110 12.300 0.500000
</s> 12.310 12.400 1.000000
`

func parseAll(output string) []sdk.Segment {
	var parser outputParser
	var segments []sdk.Segment
	add := func(u *utterance) {
		if u == nil {
			return
		}
		if s, ok := u.Segment(); ok {
			segments = append(segments, s)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(output, "\n"), "\n") {
		add(parser.Line(line))
	}
	add(parser.End())
	return segments
}

func TestOutputParser(t *testing.T) {
	segments := parseAll(decoderOutput)
	require.Len(t, segments, 3)

	first := segments[0]
	assert.Equal(t, "he was not an illness those young man", first.Text)
	assert.Equal(t, 3220*time.Millisecond, first.Start, "starts at the first word, not at <s>")
	assert.Equal(t, 5800*time.Millisecond, first.End, "ends at the last word, not at </s>")
	// Mean posterior of the eight words, fillers excluded.
	assert.InDelta(t, (0.998601+0.999600+0.998501+0.472940+0.834168+0.055875+0.050806+0.905008)/8, first.Confidence, 1e-9)

	// Words carry their own times and posteriors; silence, noise and the
	// sentence markers are left out, and "was(2)" is reported as "was".
	require.Len(t, first.Words, 8)
	assert.Equal(t, sdk.Word{Start: 3340 * time.Millisecond, End: 3550 * time.Millisecond, Text: "was", Confidence: 0.9996}, first.Words[1])
	assert.Equal(t, "an", first.Words[3].Text, "[SPEECH] is not a word")
	assert.Equal(t, "man", first.Words[7].Text)

	assert.Equal(t, "ten of clubs", segments[1].Text)
	assert.Equal(t, 9160*time.Millisecond, segments[1].Start)

	// Without a hypothesis line the text comes from the word lines, with
	// the pronunciation variant stripped.
	assert.Equal(t, "up", segments[2].Text)
	assert.InDelta(t, 0.5, segments[2].Confidence, 1e-9)
}

func TestOutputParserHypothesisWithoutWords(t *testing.T) {
	segments := parseAll("hello world\nsecond one\n")
	require.Len(t, segments, 2)
	assert.Equal(t, "hello world", segments[0].Text)
	assert.Equal(t, -1.0, segments[0].Confidence, "no word lines, no confidence")
	assert.Empty(t, segments[0].Words)
	assert.Equal(t, "second one", segments[1].Text)
}

func TestParseWordLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{"man 5.340 5.800 0.905008", true},
		{"and(2) 0.150 0.360 0.260057", true},
		{"he was not an", false},
		{"one two three", false},
		{"man 5.340 five 0.9", false},
		{"man 5.340 5.800 NaN", false},
	}
	for _, tc := range tests {
		_, ok := parseWordLine(tc.line)
		assert.Equal(t, tc.ok, ok, tc.line)
	}
}

func TestTailBufferSummary(t *testing.T) {
	b := &tailBuffer{max: 64}
	_, _ = b.Write([]byte(strings.Repeat("INFO: padding line\n", 20)))
	assert.Equal(t, "INFO: padding line", b.Summary(), "last line when there is no error line")
	assert.LessOrEqual(t, len(b.data), 64)

	_, _ = b.Write([]byte("ERROR: \"acmod.c\", line 78: no mdef\nINFO: after\n"))
	assert.Equal(t, `ERROR: "acmod.c", line 78: no mdef`, b.Summary())
}
