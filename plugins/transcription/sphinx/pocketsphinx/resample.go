package pocketsphinx

// Sample-rate conversion.
//
// The resampler is a polyphase FIR filter. Converting from rate fin to fout
// is upsampling by L, low-pass filtering and downsampling by M, where
// L/M = fout/fin in lowest terms. Only the L phases of the filter that the
// output samples use are computed, and each output sample is one dot
// product of a phase with the input samples around it, so downsampling
// never drops samples unfiltered.
//
// The filter is a Kaiser-windowed sinc designed for 80 dB stopband
// attenuation. Its passband ends at 90% of the lower Nyquist frequency
// (7.2 kHz for a 16 kHz output) and its stopband starts at the lower Nyquist
// frequency itself, so no tone above 8 kHz aliases into a 16 kHz output.
// The window parameter and the length follow Kaiser's design formulas for
// a stopband attenuation A in dB and a transition width dw in rad/sample:
//
//	beta = 0.1102 (A - 8.7)           for A > 50 dB
//	N    = (A - 8) / (2.285 dw)       taps

import (
	"fmt"
	"math"
	"sync"
)

const (
	stopbandAttenuation = 80.0 // dB
	// passbandFraction is where the passband ends, as a fraction of the
	// lower of the two Nyquist frequencies.
	passbandFraction = 0.9
	// maxPhases bounds the filter table, so rates whose ratio to the
	// output rate needs more phases are rejected. The usual rates from 8
	// to 192 kHz need at most 640 (11.025 kHz).
	maxPhases = 4096
)

// polyphaseFilter is the immutable filter of one rate conversion, shared by
// every resampler of that conversion.
type polyphaseFilter struct {
	up, down int // L and M
	half     int // taps on each side of the centre
	// phases[p] holds the 2*half coefficients for output positions p/L
	// of an input sample past the latest whole input sample.
	phases [][]float64
}

var filterCache sync.Map // map[[2]int]*polyphaseFilter

// filterFor returns the filter that converts inRate to outRate, designing it
// on first use.
func filterFor(inRate, outRate int) (*polyphaseFilter, error) {
	key := [2]int{inRate, outRate}
	if f, ok := filterCache.Load(key); ok {
		return f.(*polyphaseFilter), nil
	}
	f, err := designFilter(inRate, outRate)
	if err != nil {
		return nil, err
	}
	actual, _ := filterCache.LoadOrStore(key, f)
	return actual.(*polyphaseFilter), nil
}

func designFilter(inRate, outRate int) (*polyphaseFilter, error) {
	g := gcd(inRate, outRate)
	up, down := outRate/g, inRate/g
	if up > maxPhases {
		return nil, invalidWAV("sample rate %d Hz cannot be converted to %d Hz (the rate ratio %d/%d is too fine); resample to a common rate such as 44100 or 48000 Hz", inRate, outRate, up, down)
	}

	// Frequencies in cycles per input sample.
	nyquist := float64(min(inRate, outRate)) / 2 / float64(inRate)
	transition := nyquist * (1 - passbandFraction)
	cutoff := nyquist - transition/2

	taps := (stopbandAttenuation - 8) / (2.285 * 2 * math.Pi * transition)
	half := int(math.Ceil(taps / 2))
	beta := 0.1102 * (stopbandAttenuation - 8.7)

	f := &polyphaseFilter{up: up, down: down, half: half, phases: make([][]float64, up)}
	for p := range up {
		f.phases[p] = designPhase(p, up, half, cutoff, beta)
	}
	return f, nil
}

// designPhase computes the coefficients of phase p. Coefficient i weighs the
// input sample i-half+1 positions after the latest whole input sample, which
// lies p/up input samples before the output position.
func designPhase(p, up, half int, cutoff, beta float64) []float64 {
	coefficients := make([]float64, 2*half)
	norm := besselI0(beta)
	sum := 0.0
	for i := range coefficients {
		// Distance from the output position to the input sample, in input
		// samples.
		tau := float64(p)/float64(up) - float64(i-half+1)
		ratio := tau / float64(half)
		if math.Abs(ratio) > 1 {
			continue
		}
		window := besselI0(beta*math.Sqrt(1-ratio*ratio)) / norm
		coefficients[i] = 2 * cutoff * sinc(2*cutoff*tau) * window
		sum += coefficients[i]
	}
	// Normalising each phase to unit DC gain keeps a constant input
	// constant whatever the phase.
	for i := range coefficients {
		coefficients[i] /= sum
	}
	return coefficients
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series, which converges fast for the arguments a Kaiser
// window uses.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 100; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// resampler converts a stream of samples with a polyphaseFilter. It keeps
// the input samples that later outputs still need, so the stream can be fed
// in blocks of any size.
type resampler struct {
	filter *polyphaseFilter
	// pending contains the input samples from index base on.
	pending []float64
	base    int64
	// received counts the input samples fed so far.
	received int64
	// next is the index of the next output sample.
	next int64
}

func newResampler(inRate, outRate int) (*resampler, error) {
	f, err := filterFor(inRate, outRate)
	if err != nil {
		return nil, err
	}
	return &resampler{filter: f}, nil
}

// Process feeds input samples and appends every output sample they complete
// to out.
func (r *resampler) Process(in []float64, out []float64) []float64 {
	r.pending = append(r.pending, in...)
	r.received += int64(len(in))
	return r.drain(out, r.received)
}

// Flush appends the remaining output samples, treating the input as zero
// after its end, so the output has ceil(inputs*L/M) samples in all.
func (r *resampler) Flush(out []float64) []float64 {
	f := r.filter
	total := (r.received*int64(f.up) + int64(f.down) - 1) / int64(f.down)
	for r.next < total {
		// Pad with enough zeros for the last outputs, then drain them.
		r.pending = append(r.pending, make([]float64, f.half)...)
		out = r.drain(out, r.base+int64(len(r.pending)))
	}
	return out[:len(out)-int(r.next-total)]
}

// drain appends the outputs whose inputs are all below available.
func (r *resampler) drain(out []float64, available int64) []float64 {
	f := r.filter
	up, down, half := int64(f.up), int64(f.down), int64(f.half)
	if up == down {
		out = append(out, r.pending...)
		r.base += int64(len(r.pending))
		r.next = r.base
		r.pending = r.pending[:0]
		return out
	}

	for {
		position := r.next * down
		latest := position / up // latest whole input sample at or before the output
		if latest+half >= available {
			break
		}
		phase := f.phases[position%up]
		// Input samples before base are zero (the start of the stream) or
		// no longer needed; the first output samples skip them.
		start := latest - half + 1 - r.base
		if start < 0 {
			phase = phase[-start:]
			start = 0
		}
		samples := r.pending[start : start+int64(len(phase))]
		acc := 0.0
		for i, c := range phase {
			acc += c * samples[i]
		}
		out = append(out, acc)
		r.next++
	}
	r.discardBefore((r.next*down)/up - half + 1)
	return out
}

// discardBefore drops pending samples with an index below keep.
func (r *resampler) discardBefore(keep int64) {
	drop := keep - r.base
	if drop <= 0 {
		return
	}
	drop = min(drop, int64(len(r.pending)))
	r.pending = append(r.pending[:0], r.pending[drop:]...)
	r.base += drop
}

// String describes the conversion, for logs and test failures.
func (f *polyphaseFilter) String() string {
	return fmt.Sprintf("polyphase filter L=%d M=%d taps=%d", f.up, f.down, 2*f.half)
}
