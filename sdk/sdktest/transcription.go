package sdktest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// TranscriptionCase is a recording the transcriber under test can
// transcribe, with what the transcript must contain.
type TranscriptionCase struct {
	// Audio is the recording and ContentType its MIME type, such as
	// "audio/wav".
	Audio       []byte
	ContentType string
	// Language is passed in the request; empty lets the provider decide.
	Language string
	// WantText lists words or phrases the transcript must contain,
	// compared without regard to case.
	WantText []string
}

// LargePayloadSize is the size of the oversized inputs the suites send to
// transcribers, imaging providers and chat models, in bytes: 32 MiB, or
// 2 MiB under go test -short. The provider may process or reject them,
// but the call must end with a result or a contract error.
func LargePayloadSize() int64 {
	if testing.Short() {
		return 2 << 20
	}
	return 32 << 20
}

// Transcription runs the conformance suite for sdk.Transcriber, and for
// sdk.StreamingTranscriber when the transcriber implements it.
func Transcription(t *testing.T, newTranscriber func(t *testing.T) sdk.Transcriber, tc TranscriptionCase) {
	require.NotEmpty(t, tc.Audio, "the case needs audio")
	tests := []struct {
		name string
		run  func(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase)
	}{
		{"Transcribe", transcribeCase},
		{"EmptyAudio", transcribeEmpty},
		{"UnsupportedContentType", transcribeUnsupportedType},
		{"CorruptAudio", transcribeCorrupt},
		{"LargePayload", transcribeLarge},
		{"ConcurrentCalls", transcribeConcurrent},
		{"CancelledContext", transcribeCancelled},
		{"CancelDuringUpload", transcribeCancelUpload},
		{"Stream", transcribeStream},
		{"StreamEmitError", transcribeStreamEmitError},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			tr := newTranscriber(t)
			require.NotNil(t, tr, "the factory returned a nil transcriber")
			test.run(t, tr, tc)
		})
	}
}

func (tc TranscriptionCase) request() sdk.TranscriptionRequest {
	return sdk.TranscriptionRequest{Audio: bytes.NewReader(tc.Audio), ContentType: tc.ContentType, Language: tc.Language}
}

// checkTranscript checks the transcript of tc's audio.
func checkTranscript(t *testing.T, tr *sdk.Transcript, tc TranscriptionCase) {
	t.Helper()
	require.NotNil(t, tr)
	assert.NotEmpty(t, strings.TrimSpace(tr.Text), "transcript text")
	for _, want := range tc.WantText {
		assert.Contains(t, strings.ToLower(tr.Text), strings.ToLower(want), "transcript text")
	}
	var previous time.Duration
	for i, seg := range tr.Segments {
		assert.GreaterOrEqual(t, seg.Start, previous, "segment %d starts before the one before it", i)
		assert.LessOrEqual(t, seg.Start, seg.End, "segment %d ends before it starts", i)
		if tr.Duration > 0 {
			assert.LessOrEqual(t, seg.End, tr.Duration+time.Second, "segment %d ends after the audio", i)
		}
		assert.True(t, seg.Confidence == -1 || (seg.Confidence >= 0 && seg.Confidence <= 1),
			"segment %d confidence %v is outside [0,1] and not -1", i, seg.Confidence)
		previous = seg.Start
	}
}

func transcribeCase(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	out, err := tr.Transcribe(context.Background(), tc.request())
	require.NoError(t, err)
	checkTranscript(t, out, tc)
}

func transcribeEmpty(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(nil), ContentType: tc.ContentType})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func transcribeUnsupportedType(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(tc.Audio), ContentType: "application/x-not-audio"})
	assert.True(t, errors.Is(err, sdk.ErrInvalid) || errors.Is(err, sdk.ErrNotSupported),
		"an unsupported content type returned %v, want ErrInvalid or ErrNotSupported", err)
}

func transcribeCorrupt(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	garbage := []byte("this is not audio at all, just text pretending to be a recording")
	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(garbage), ContentType: tc.ContentType})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

// acceptedLargeError reports whether err is an acceptable outcome for an
// oversized input: success, or a contract error the provider raised. An
// error the hub side raised, such as a gRPC message limit, is not.
func acceptedLargeError(err error) bool {
	if err == nil {
		return true
	}
	if !errors.Is(err, sdk.ErrInvalid) && !errors.Is(err, sdk.ErrTooLarge) && !errors.Is(err, sdk.ErrNotSupported) {
		return false
	}
	for _, issue := range sdk.AsOutcome(err).Issues {
		if issue.Source == sdk.SourceHub {
			return false
		}
	}
	return true
}

func transcribeLarge(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	audio := append(bytes.Clone(tc.Audio), make([]byte, LargePayloadSize())...)
	_, err := tr.Transcribe(context.Background(), sdk.TranscriptionRequest{Audio: bytes.NewReader(audio), ContentType: tc.ContentType})
	assert.True(t, acceptedLargeError(err), "a %d-byte recording returned %v; want a transcript, ErrInvalid or ErrTooLarge", len(audio), err)
}

func transcribeConcurrent(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	var wg sync.WaitGroup
	results := make([]*sdk.Transcript, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = tr.Transcribe(context.Background(), tc.request()) })
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i], "call %d", i)
		checkTranscript(t, results[i], tc)
	}
}

func transcribeCancelled(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tr.Transcribe(ctx, tc.request())
	assert.True(t, isCancellation(err), "Transcribe with a cancelled context returned %v", err)
}

func transcribeCancelUpload(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := returnsWithin(t, cancel, 200*time.Millisecond, func() error {
		audio := &prefixedReader{prefix: tc.Audio, rest: newSlowReader()}
		_, err := tr.Transcribe(ctx, sdk.TranscriptionRequest{Audio: audio, ContentType: tc.ContentType})
		return err
	})
	assert.True(t, isCancellation(err), "Transcribe after cancel returned %v, want a cancellation error", err)
}

func transcribeStream(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	streamer, ok := tr.(sdk.StreamingTranscriber)
	if !ok {
		t.Skip("the transcriber does not implement sdk.StreamingTranscriber")
	}
	var emitted []sdk.Segment
	out, err := streamer.TranscribeStream(context.Background(), tc.request(), func(s sdk.Segment) error {
		emitted = append(emitted, s)
		return nil
	})
	require.NoError(t, err)
	checkTranscript(t, out, tc)
	assert.NotEmpty(t, emitted, "no segment was emitted")
	assert.Equal(t, out.Segments, emitted, "the emitted segments are the transcript's, in order")
}

var errStopEmit = errors.New("sdktest: the caller stops the stream")

func transcribeStreamEmitError(t *testing.T, tr sdk.Transcriber, tc TranscriptionCase) {
	streamer, ok := tr.(sdk.StreamingTranscriber)
	if !ok {
		t.Skip("the transcriber does not implement sdk.StreamingTranscriber")
	}
	calls := 0
	_, err := streamer.TranscribeStream(context.Background(), tc.request(), func(sdk.Segment) error {
		calls++
		return errStopEmit
	})
	assert.ErrorIs(t, err, errStopEmit, "the error emit returned is returned")
	assert.Equal(t, 1, calls, "emit is not called after it returned an error")
}

// prefixedReader reads prefix, then rest.
type prefixedReader struct {
	prefix []byte
	rest   *slowReader
}

func (r *prefixedReader) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	return r.rest.Read(p)
}
