package dicomreader

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

func analyze(t *testing.T, data []byte, model string) (*sdk.ImagingResult, error) {
	t.Helper()
	return (&Reader{}).Analyze(context.Background(), sdk.ImagingRequest{
		Object: bytes.NewReader(data), ContentType: "application/dicom", Subject: "Patient/example", Model: model,
	})
}

func TestAnalyzeCTStatistics(t *testing.T) {
	data := readTestFile(t, "CT_small.dcm")
	result, err := analyze(t, data, "")
	require.NoError(t, err)

	// The same statistics from the library's decoding of the pixels:
	// stored values plus the intercept of -1024, padding (-2000) skipped.
	var values []float64
	for _, v := range libraryPixels(t, data, true) {
		if v != -2000 {
			values = append(values, v-1024)
		}
	}
	mean, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, v := range values {
		mean += v / float64(len(values))
		lo, hi = min(lo, v), max(hi, v)
	}
	variance := 0.0
	for _, v := range values {
		variance += (v - mean) * (v - mean) / float64(len(values))
	}
	want := map[string]float64{"373098007": mean, "386136009": math.Sqrt(variance), "255605001": lo, "56851009": hi}

	assert.Equal(t, StatisticsModel, result.Model)
	assert.Equal(t, Version, result.ModelVersion)
	require.Len(t, result.Observations, 4)

	var report diagnosticReport
	require.NoError(t, json.Unmarshal(result.Report, &report))
	assert.Equal(t, "DiagnosticReport", report.ResourceType)
	assert.Equal(t, "final", report.Status)
	assert.Equal(t, "Patient/example", report.Subject.Reference)
	require.Len(t, report.Result, 4)

	for i, raw := range result.Observations {
		var obs observation
		require.NoError(t, json.Unmarshal(raw, &obs))
		assert.Equal(t, "Observation", obs.ResourceType)
		assert.Equal(t, "urn:uuid:"+obs.ID, report.Result[i].Reference)
		require.Len(t, obs.Code.Coding, 1)
		assert.Equal(t, systemSNOMED, obs.Code.Coding[0].System)
		expected, ok := want[obs.Code.Coding[0].Code]
		require.True(t, ok, "unexpected code %s", obs.Code.Coding[0].Code)
		assert.InDelta(t, expected, obs.ValueQuantity.Value, 1e-3, obs.Code.Coding[0].Display)
		assert.Equal(t, "[hnsf'U]", obs.ValueQuantity.Code)
	}
}

func TestAnalyzeRejects(t *testing.T) {
	tests := []struct {
		name, file, model, message string
	}{
		{"no pixel data", "ExplVR_LitEndNoMeta.dcm", "", "no pixel data"},
		{"other model", "CT_small.dcm", "chest-xray-classifier", `model "chest-xray-classifier" is not available`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analyze(t, readTestFile(t, tc.file), tc.model)
			require.Error(t, err)
			assert.ErrorIs(t, err, sdk.ErrNotSupported)
			assert.Contains(t, err.Error(), tc.message)
		})
	}
}

func TestAnalyzeDimensionlessUnit(t *testing.T) {
	data := syntheticImage(imageSpec{rows: 1, columns: 2, photometric: "MONOCHROME2", pixels: []int16{10, 30}})
	result, err := analyze(t, data, StatisticsModel)
	require.NoError(t, err)
	var obs observation
	require.NoError(t, json.Unmarshal(result.Observations[0], &obs))
	assert.Equal(t, 20.0, obs.ValueQuantity.Value)
	assert.Equal(t, "1", obs.ValueQuantity.Code)
	assert.Empty(t, obs.ValueQuantity.Unit)
}
