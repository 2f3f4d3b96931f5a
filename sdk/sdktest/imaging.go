package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// ImagingCase is an object the imaging provider under test can analyse.
type ImagingCase struct {
	// Object is the DICOM file or image and ContentType its MIME type.
	Object      []byte
	ContentType string
	// Subject is passed in the request; when set, the report must refer
	// to it.
	Subject string
	// PHI lists strings found in Object that de-identification must
	// remove, such as the patient's name. Used when the provider is an
	// sdk.Deidentifier.
	PHI []string
}

// Imaging runs the conformance suite for sdk.ImageAnalyzer, and for
// sdk.StudyReader and sdk.Deidentifier when the provider implements them.
func Imaging(t *testing.T, newAnalyzer func(t *testing.T) sdk.ImageAnalyzer, tc ImagingCase) {
	require.NotEmpty(t, tc.Object, "the case needs an object")
	tests := []struct {
		name string
		run  func(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase)
	}{
		{"Analyze", analyzeCase},
		{"EmptyObject", analyzeEmpty},
		{"UnsupportedContentType", analyzeUnsupportedType},
		{"CorruptObject", analyzeCorrupt},
		{"LargePayload", analyzeLarge},
		{"ConcurrentCalls", analyzeConcurrent},
		{"CancelledContext", analyzeCancelled},
		{"CancelDuringUpload", analyzeCancelUpload},
		{"ReadStudy", readStudyCase},
		{"Deidentify", deidentifyCase},
		{"DeidentifyWriteError", deidentifyWriteError},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			a := newAnalyzer(t)
			require.NotNil(t, a, "the factory returned a nil analyzer")
			test.run(t, a, tc)
		})
	}
}

func (tc ImagingCase) request() sdk.ImagingRequest {
	return sdk.ImagingRequest{Object: bytes.NewReader(tc.Object), ContentType: tc.ContentType, Subject: tc.Subject}
}

// decodeResource parses a resource and checks its resourceType.
func decodeResource(t *testing.T, raw json.RawMessage, resourceType string) map[string]any {
	t.Helper()
	var resource map[string]any
	require.NoError(t, json.Unmarshal(raw, &resource), "%s is not a JSON object", resourceType)
	assert.Equal(t, resourceType, resource["resourceType"], "resourceType")
	return resource
}

// checkImagingResult checks that the report is a DiagnosticReport whose
// results all resolve to the returned observations.
func checkImagingResult(t *testing.T, result *sdk.ImagingResult, tc ImagingCase) {
	t.Helper()
	require.NotNil(t, result)
	report := decodeResource(t, result.Report, "DiagnosticReport")
	assert.NotEmpty(t, report["status"], "DiagnosticReport.status")
	assert.NotEmpty(t, report["code"], "DiagnosticReport.code")

	ids := map[string]bool{}
	for i, raw := range result.Observations {
		obs := decodeResource(t, raw, "Observation")
		id, _ := obs["id"].(string)
		assert.NotEmpty(t, id, "observation %d has no id", i)
		ids[id] = true
	}
	results, _ := report["result"].([]any)
	for _, r := range results {
		ref, _ := r.(map[string]any)["reference"].(string)
		id := strings.TrimPrefix(strings.TrimPrefix(ref, "urn:uuid:"), "#")
		assert.True(t, ids[id], "DiagnosticReport.result reference %q matches no returned observation", ref)
	}
	if tc.Subject != "" {
		subject, _ := report["subject"].(map[string]any)
		assert.Equal(t, tc.Subject, subject["reference"], "DiagnosticReport.subject")
	}
}

func analyzeCase(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	result, err := a.Analyze(context.Background(), tc.request())
	require.NoError(t, err)
	checkImagingResult(t, result, tc)
}

func analyzeEmpty(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	_, err := a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(nil), ContentType: tc.ContentType})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func analyzeUnsupportedType(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	_, err := a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(tc.Object), ContentType: "text/plain"})
	assert.True(t, errors.Is(err, sdk.ErrInvalid) || errors.Is(err, sdk.ErrNotSupported),
		"an unsupported content type returned %v, want ErrInvalid or ErrNotSupported", err)
}

func analyzeCorrupt(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	garbage := []byte("this is not an image, only text pretending to be one")
	_, err := a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(garbage), ContentType: tc.ContentType})
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func analyzeLarge(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	object := append(bytes.Clone(tc.Object), make([]byte, LargePayloadSize())...)
	_, err := a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(object), ContentType: tc.ContentType})
	assert.True(t, acceptedLargeError(err), "a %d-byte object returned %v; want a result, ErrInvalid or ErrTooLarge", len(object), err)
}

func analyzeConcurrent(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	var wg sync.WaitGroup
	results := make([]*sdk.ImagingResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = a.Analyze(context.Background(), tc.request()) })
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i], "call %d", i)
		checkImagingResult(t, results[i], tc)
	}
}

func analyzeCancelled(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Analyze(ctx, tc.request())
	assert.True(t, isCancellation(err), "Analyze with a cancelled context returned %v", err)
}

func analyzeCancelUpload(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := returnsWithin(t, cancel, 200*time.Millisecond, func() error {
		object := &prefixedReader{prefix: tc.Object, rest: newSlowReader()}
		_, err := a.Analyze(ctx, sdk.ImagingRequest{Object: object, ContentType: tc.ContentType})
		return err
	})
	assert.True(t, isCancellation(err), "Analyze after cancel returned %v, want a cancellation error", err)
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

func readStudyCase(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	reader, ok := a.(sdk.StudyReader)
	if !ok {
		t.Skip("the provider does not implement sdk.StudyReader")
	}
	study, err := reader.ReadStudy(context.Background(), tc.request())
	require.NoError(t, err)
	require.NotNil(t, study)
	decodeResource(t, study.ImagingStudy, "ImagingStudy")
	if study.Preview != nil {
		assert.True(t, bytes.HasPrefix(study.Preview, pngSignature), "the preview is not a PNG")
	}

	_, err = reader.ReadStudy(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(nil), ContentType: tc.ContentType})
	assert.ErrorIs(t, err, sdk.ErrInvalid, "ReadStudy of an empty object")
}

func deidentifyCase(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	deidentifier, ok := a.(sdk.Deidentifier)
	if !ok {
		t.Skip("the provider does not implement sdk.Deidentifier")
	}
	var out bytes.Buffer
	result, err := deidentifier.Deidentify(context.Background(), tc.request(), &out)
	require.NoError(t, err)
	require.NotNil(t, result)
	assert.NotEmpty(t, result.Profile, "DeidentifyResult.Profile")
	assert.NotZero(t, out.Len(), "no de-identified object was written")
	for _, phi := range tc.PHI {
		assert.NotContains(t, out.String(), phi, "the de-identified object still contains PHI")
	}

	_, err = deidentifier.Deidentify(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(nil), ContentType: tc.ContentType}, io.Discard)
	assert.ErrorIs(t, err, sdk.ErrInvalid, "Deidentify of an empty object")
}

// failingWriter fails every write.
type failingWriter struct{}

var errWriteRejected = errors.New("sdktest: the output writer rejects the write")

func (failingWriter) Write([]byte) (int, error) { return 0, errWriteRejected }

func deidentifyWriteError(t *testing.T, a sdk.ImageAnalyzer, tc ImagingCase) {
	deidentifier, ok := a.(sdk.Deidentifier)
	if !ok {
		t.Skip("the provider does not implement sdk.Deidentifier")
	}
	_, err := deidentifier.Deidentify(context.Background(), tc.request(), failingWriter{})
	assert.ErrorIs(t, err, errWriteRejected, "the writer's error is returned")
}
