package dicomreader

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/healthhub/healthhub/sdk"
)

var benchmarkFiles = []string{"CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "ExplVR_LitEndNoMeta.dcm"}

// BenchmarkReadStudy measures a whole ReadStudy per file: framing check,
// parse, ImagingStudy and PNG preview.
func BenchmarkReadStudy(b *testing.B) {
	r := &Reader{}
	for _, file := range benchmarkFiles {
		data := readTestFile(b, file)
		b.Run(file, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := r.ReadStudy(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(data), Subject: "Patient/1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeidentify measures a whole Deidentify per file.
func BenchmarkDeidentify(b *testing.B) {
	r := &Reader{}
	for _, file := range benchmarkFiles {
		data := readTestFile(b, file)
		b.Run(file, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := r.Deidentify(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(data)}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
