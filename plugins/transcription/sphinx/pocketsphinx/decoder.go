package pocketsphinx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

const (
	// stderrTail is how much of the decoder's log is kept to explain a
	// failure, in bytes. A normal run logs about 8 KB.
	stderrTail = 64 << 10
	// killGrace is how long Wait waits for the output pipes to close after
	// the process has been killed.
	killGrace = 5 * time.Second
)

// arguments returns the decoder's command-line arguments. The audio arrives
// on standard input as raw PCM: pocketsphinx_continuous reads a WAV header
// only from file names that end in ".wav".
func (s *settings) arguments() []string {
	return []string{
		"-infile", "/dev/stdin",
		"-time", "yes",
		"-samprate", fmt.Sprint(modelRate),
		"-hmm", s.AcousticModel,
		"-lm", s.LanguageModel,
		"-dict", s.Dictionary,
	}
}

// decode runs one decoder process on the converted audio and returns the
// segments it recognised, calling emit with each as it is printed.
func (s *settings) decode(parent context.Context, conv *conversion, emit func(sdk.Segment) error) ([]sdk.Segment, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	p, err := s.startDecoder(ctx)
	if err != nil {
		if parent.Err() != nil {
			return nil, fmt.Errorf("transcribe: %w", parent.Err())
		}
		return nil, err
	}
	fed := feed(conv, p.stdin, cancel)

	segments, emitErr := readSegments(p.stdout, emit)
	if emitErr != nil {
		cancel(emitErr)
	}
	// Drain what a killed or failed decoder left, so Wait does not block
	// on a full pipe.
	_, _ = io.Copy(io.Discard, p.stdout)
	waitErr := p.cmd.Wait()
	if waitErr != nil {
		cancel(waitErr)
	}
	feedErr := feedResult(ctx, fed)

	if err := decodeError(parent.Err(), emitErr, feedErr, waitErr, p.stderr); err != nil {
		return nil, err
	}
	return segments, nil
}

// decoderProcess is a started decoder with its pipes.
type decoderProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *tailBuffer
}

// startDecoder starts pocketsphinx_continuous, which ctx kills when it ends.
func (s *settings) startDecoder(ctx context.Context) (*decoderProcess, error) {
	cmd := exec.CommandContext(ctx, s.Program, s.arguments()...)
	// The decoder needs no environment, so it gets none of the hub's
	// variables. LC_ALL=C keeps its number format fixed.
	cmd.Env = []string{"LC_ALL=C"}
	cmd.WaitDelay = killGrace
	p := &decoderProcess{cmd: cmd, stderr: &tailBuffer{max: stderrTail}}
	cmd.Stderr = p.stderr

	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("transcribe: %w", err)
	}
	if p.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("transcribe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, sdk.Errorf(sdk.CodeException, "transcribe: start decoder %q: %v; install pocketsphinx (scripts/install-deps.sh) or set program", s.Program, err)
	}
	return p, nil
}

// feed writes the converted audio to the decoder's standard input and
// closes it, in a goroutine. A failure cancels the decode. The returned
// channel receives the goroutine's error when it ends.
func feed(conv *conversion, stdin io.WriteCloser, cancel context.CancelCauseFunc) <-chan error {
	fed := make(chan error, 1)
	go func() {
		_, err := conv.WriteTo(stdin)
		if closeErr := stdin.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			cancel(err)
		}
		fed <- err
	}()
	return fed
}

// feedResult returns the feeding goroutine's error. A cancelled or failed
// decode does not wait for it: the goroutine may be blocked reading the
// caller's reader, and ends when that read returns.
func feedResult(ctx context.Context, fed <-chan error) error {
	select {
	case err := <-fed:
		return err
	case <-ctx.Done():
		select {
		case err := <-fed:
			return err
		default:
			return nil
		}
	}
}

// readSegments reads the decoder's output to its end, calling emit with each
// segment. It stops at the first error from emit.
func readSegments(stdout io.Reader, emit func(sdk.Segment) error) ([]sdk.Segment, error) {
	var segments []sdk.Segment
	add := func(u *utterance) error {
		if u == nil {
			return nil
		}
		segment, ok := u.Segment()
		if !ok {
			return nil
		}
		segments = append(segments, segment)
		if emit == nil {
			return nil
		}
		return emit(segment)
	}

	var parser outputParser
	scanner := bufio.NewScanner(stdout)
	scanner.Buffer(make([]byte, 0, 4096), 1<<20)
	for scanner.Scan() {
		if err := add(parser.Line(scanner.Text())); err != nil {
			return segments, err
		}
	}
	if err := scanner.Err(); err != nil {
		return segments, fmt.Errorf("transcribe: read decoder output: %w", err)
	}
	return segments, add(parser.End())
}

// decodeError picks the error that explains a decode, in order: the
// caller's emit error, the caller's context, bad or unreadable audio, the
// decoder's own failure, and a failure to write to it.
func decodeError(parentErr, emitErr, feedErr, waitErr error, stderr *tailBuffer) error {
	if emitErr != nil {
		return emitErr
	}
	if parentErr != nil {
		return fmt.Errorf("transcribe: %w", parentErr)
	}
	var outcome *sdk.Outcome
	if errors.As(feedErr, &outcome) {
		return feedErr
	}
	if feedErr != nil && !errors.Is(feedErr, errDecoderInput) {
		return fmt.Errorf("transcribe: %w", feedErr)
	}
	if waitErr != nil {
		return sdk.Errorf(sdk.CodeException, "transcribe: decoder failed (%v): %s", waitErr, stderr.Summary())
	}
	if feedErr != nil {
		return fmt.Errorf("transcribe: %w", feedErr)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	data []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, p...)
	if over := len(b.data) - b.max; over > 0 {
		b.data = append(b.data[:0], b.data[over:]...)
	}
	return len(p), nil
}

// Summary returns the decoder's error lines, or its last line when it
// printed none.
func (b *tailBuffer) Summary() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(b.data)), "\n")
	var errorLines []string
	for _, line := range lines {
		if strings.HasPrefix(line, "ERROR:") || strings.HasPrefix(line, "FATAL") {
			errorLines = append(errorLines, strings.TrimSpace(line))
		}
	}
	if len(errorLines) == 0 {
		if last := lines[len(lines)-1]; last != "" {
			return last
		}
		return "no message from the decoder"
	}
	return strings.Join(errorLines[max(0, len(errorLines)-3):], "; ")
}
