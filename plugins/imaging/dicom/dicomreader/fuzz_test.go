package dicomreader

import (
	"errors"
	"testing"

	"github.com/healthhub/healthhub/sdk"
)

// FuzzParseObject feeds arbitrary bytes through everything a request does
// with an object: parsing, the ImagingStudy, the preview, the statistics
// and de-identification. None may panic, and every error must be an
// outcome that marks the input as invalid or not supported.
//
// The seed corpus is testdata/fuzz/FuzzParseObject plus the project's DICOM
// test files. Run it with:
//
//	go test -run '^$' -fuzz FuzzParseObject -fuzztime 2m ./plugins/imaging/dicom/dicomreader
func FuzzParseObject(f *testing.F) {
	for _, file := range []string{"CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "ExplVR_LitEndNoMeta.dcm"} {
		f.Add(readTestFile(f, file))
	}
	padding := int16(-1)
	f.Add(syntheticImage(imageSpec{rows: 2, columns: 2, photometric: "MONOCHROME1", signed: true, padding: &padding,
		slope: "2", intercept: "-1", windowCenter: "0", windowWidth: "10", voiFunction: "SIGMOID", pixels: []int16{-1, 0, 1, 2}}))

	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := parseObject(data)
		if err != nil {
			checkInputError(t, "parse", err)
			return
		}
		if _, err := imagingStudyJSON(obj, "Patient/fuzz", nil); err != nil {
			checkInputError(t, "imaging study", err)
		}
		if _, err := renderPreview(obj, nil); err != nil {
			checkInputError(t, "preview", err)
		}
		if _, err := analysisResult(obj, "", Version); err != nil {
			checkInputError(t, "analyze", err)
		}
		if _, _, err := deidentifyObject(obj, nil, Version); err != nil {
			checkInputError(t, "de-identify", err)
		}
	})
}

// checkInputError fails the test unless err is an outcome for invalid or
// unsupported input, or for an input with nothing to process.
func checkInputError(t *testing.T, step string, err error) {
	t.Helper()
	var outcome *sdk.Outcome
	if !errors.As(err, &outcome) {
		t.Fatalf("%s: %v is not an outcome", step, err)
	}
	if errors.Is(err, sdk.ErrInvalid) || errors.Is(err, sdk.ErrNotSupported) {
		return
	}
	if outcome.Issues[0].Code != sdk.CodeProcessing {
		t.Fatalf("%s: %v is neither ErrInvalid, ErrNotSupported nor a processing issue", step, err)
	}
}
