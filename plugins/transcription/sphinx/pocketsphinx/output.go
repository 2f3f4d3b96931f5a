package pocketsphinx

// Parsing of pocketsphinx_continuous output.
//
// With -infile and -time yes, pocketsphinx_continuous 5prealpha writes one
// block per utterance to stdout as soon as its voice activity detector
// detects the end of the utterance. A block is a line with the hypothesis,
// then one line per word of the best path:
//
//	and mister john dashwood
//	<s> 0.000 0.140 0.999400
//	and(2) 0.150 0.360 0.260057
//	...
//	</s> 7.050 7.080 1.000000
//
// where the numbers are the start and end in seconds from the beginning of
// the audio and the word's posterior probability. "(2)" marks an alternative
// pronunciation. <s>, </s>, <sil> and bracketed words such as [NOISE] are
// fillers. The hypothesis line may be missing or empty for an utterance
// without words.

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// recognisedWord is one word line of the output.
type recognisedWord struct {
	text       string
	start, end float64 // seconds
	posterior  float64
}

// utterance is one output block.
type utterance struct {
	hypothesis string
	words      []recognisedWord
}

// outputParser assembles utterances from output lines.
type outputParser struct {
	current *utterance
}

// Line consumes one output line and returns the utterance it completes, or
// nil.
func (p *outputParser) Line(line string) *utterance {
	line = strings.TrimRight(line, "\r")
	if word, ok := parseWordLine(line); ok {
		if p.current == nil {
			p.current = &utterance{}
		}
		p.current.words = append(p.current.words, word)
		if word.text == "</s>" {
			return p.End()
		}
		return nil
	}

	done := p.End()
	p.current = &utterance{hypothesis: strings.TrimSpace(line)}
	return done
}

// End returns the utterance in progress, if any, at the end of the output.
func (p *outputParser) End() *utterance {
	done := p.current
	p.current = nil
	return done
}

// parseWordLine parses "word start end posterior".
func parseWordLine(line string) (recognisedWord, bool) {
	fields := strings.Fields(line)
	if len(fields) != 4 {
		return recognisedWord{}, false
	}
	var numbers [3]float64
	for i, field := range fields[1:] {
		v, err := strconv.ParseFloat(field, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return recognisedWord{}, false
		}
		numbers[i] = v
	}
	return recognisedWord{text: fields[0], start: numbers[0], end: numbers[1], posterior: numbers[2]}, true
}

// isFiller reports whether w is a silence or noise marker rather than a
// word.
func isFiller(w string) bool {
	return strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "++")
}

// baseWord strips the alternative-pronunciation suffix, as in "and(2)".
func baseWord(w string) string {
	if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
		return w[:i]
	}
	return w
}

// Segment converts the utterance to a segment. It reports false for an
// utterance without words. The confidence is the mean posterior probability
// of the words, or -1 when no word line was printed. Silence and noise
// markers are left out of Words.
func (u *utterance) Segment() (sdk.Segment, bool) {
	var words []string
	var timed []sdk.Word
	var first, last *recognisedWord
	sum := 0.0
	for i := range u.words {
		w := &u.words[i]
		if isFiller(w.text) {
			continue
		}
		if first == nil {
			first = w
		}
		last = w
		words = append(words, baseWord(w.text))
		timed = append(timed, sdk.Word{
			Start:      seconds(w.start),
			End:        seconds(w.end),
			Text:       baseWord(w.text),
			Confidence: max(0, min(1, w.posterior)),
		})
		sum += w.posterior
	}

	text := u.hypothesis
	if text == "" {
		text = strings.Join(words, " ")
	}
	if text == "" {
		return sdk.Segment{}, false
	}

	segment := sdk.Segment{Text: text, Confidence: -1, Words: timed}
	if first != nil {
		segment.Start = seconds(first.start)
		segment.End = seconds(last.end)
		segment.Confidence = max(0, min(1, sum/float64(len(words))))
	}
	return segment, true
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}
