package dicomreader

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// StatisticsModel is the name Analyze reports as its model: a measurement
// of the pixel values, not a trained model.
const StatisticsModel = "pixel-statistics"

// FHIR resources of the analysis.
type (
	quantity struct {
		Value  float64 `json:"value"`
		Unit   string  `json:"unit,omitempty"`
		System string  `json:"system"`
		Code   string  `json:"code"`
	}
	observation struct {
		ResourceType  string          `json:"resourceType"`
		ID            string          `json:"id"`
		Status        string          `json:"status"`
		Code          codeableConcept `json:"code"`
		Subject       *reference      `json:"subject,omitempty"`
		ValueQuantity quantity        `json:"valueQuantity"`
		Method        codeableConcept `json:"method"`
	}
	diagnosticReport struct {
		ResourceType string          `json:"resourceType"`
		Status       string          `json:"status"`
		Code         codeableConcept `json:"code"`
		Subject      *reference      `json:"subject,omitempty"`
		Result       []reference     `json:"result"`
		Conclusion   string          `json:"conclusion"`
	}
)

// statistic is one measurement of the first frame, with its SNOMED CT
// qualifier (PS3.16 Annex O lists them as the DICOM equivalents of SRT
// R-00317, R-10047, R-404FB and G-A437).
type statistic struct {
	code, display string
	value         float64
}

// pixelStatistics returns the mean, standard deviation, minimum and
// maximum of the modality values of a gray frame, padding excluded.
func pixelStatistics(f *frame) ([]statistic, error) {
	var n int
	var sum, lo, hi = 0.0, math.Inf(1), math.Inf(-1)
	for _, v := range f.gray {
		if math.IsNaN(v) {
			continue
		}
		n++
		sum += v
		lo, hi = min(lo, v), max(hi, v)
	}
	if n == 0 {
		return nil, sdk.Errorf(sdk.CodeProcessing, "analyze: every pixel of the first frame is padding; there is nothing to measure")
	}
	mean := sum / float64(n)
	squares := 0.0
	for _, v := range f.gray {
		if !math.IsNaN(v) {
			squares += (v - mean) * (v - mean)
		}
	}
	return []statistic{
		{"373098007", "Mean", mean},
		{"386136009", "Standard deviation", math.Sqrt(squares / float64(n))},
		{"255605001", "Minimum", lo},
		{"56851009", "Maximum", hi},
	}, nil
}

// analysisResult measures the first frame and reports the statistics as a
// DiagnosticReport with one Observation each. Observations carry a UUID
// id, and the report refers to them as "urn:uuid:<id>".
func analysisResult(obj *object, subject, version string) (*sdk.ImagingResult, error) {
	f, err := firstFrame(obj)
	switch {
	case errors.Is(err, errNoPixels):
		return nil, sdk.Errorf(sdk.CodeNotSupported, "analyze: the object has no pixel data to measure")
	case errors.Is(err, errPixelsUnsupported):
		return nil, sdk.Errorf(sdk.CodeNotSupported, "analyze: the pixel data encoding (transfer syntax %s, %s) is not supported; send uncompressed or JPEG Baseline pixel data", obj.syntax.UID, obj.text(tag.PhotometricInterpretation))
	case err != nil:
		return nil, err
	case f.gray == nil:
		return nil, sdk.Errorf(sdk.CodeNotSupported, "analyze: pixel statistics need a monochrome image; this one is %s", obj.text(tag.PhotometricInterpretation))
	}
	stats, err := pixelStatistics(f)
	if err != nil {
		return nil, err
	}

	var subjectRef *reference
	if subject != "" {
		subjectRef = &reference{Reference: subject}
	}
	unit := valueUnit(obj)
	report := diagnosticReport{
		ResourceType: "DiagnosticReport",
		Status:       "final",
		Code:         codeableConcept{Text: "Pixel value statistics of the first image frame"},
		Subject:      subjectRef,
	}
	result := &sdk.ImagingResult{Model: StatisticsModel, ModelVersion: version}
	var summary []string
	for _, s := range stats {
		id, data, err := statisticObservation(s, unit, subjectRef)
		if err != nil {
			return nil, err
		}
		result.Observations = append(result.Observations, data)
		report.Result = append(report.Result, reference{Reference: "urn:uuid:" + id})
		summary = append(summary, strings.TrimSpace(fmt.Sprintf("%s %.4g %s", strings.ToLower(s.display), s.value, unit.display)))
	}
	report.Conclusion = "First frame, " + strings.Join(summary, ", ") + "."

	if result.Report, err = json.Marshal(report); err != nil {
		return nil, err
	}
	return result, nil
}

// statisticObservation returns the Observation of one statistic, as JSON,
// with its new id.
func statisticObservation(s statistic, u unit, subject *reference) (string, json.RawMessage, error) {
	id, err := randomUUID()
	if err != nil {
		return "", nil, err
	}
	obs := observation{
		ResourceType: "Observation",
		ID:           id,
		Status:       "final",
		Code: codeableConcept{
			Coding: []coding{{System: systemSNOMED, Code: s.code, Display: s.display}},
			Text:   s.display + " pixel value of the first frame",
		},
		Subject:       subject,
		ValueQuantity: quantity{Value: roundTo(s.value, 4), Unit: u.display, System: "http://unitsofmeasure.org", Code: u.code},
		Method:        codeableConcept{Text: "Computed over the modality values (rescale slope and intercept applied) of every pixel of the first frame, padding excluded"},
	}
	data, err := json.Marshal(obs)
	return id, data, err
}

// unit is a UCUM unit with its display text.
type unit struct{ code, display string }

// valueUnit returns the unit of the modality values: Hounsfield units for
// CT or a Rescale Type (0028,1054) of HU, otherwise the UCUM unit 1
// (dimensionless) with no display text.
func valueUnit(obj *object) unit {
	if strings.EqualFold(obj.text(tag.Modality), "CT") || strings.EqualFold(obj.text(tag.RescaleType), "HU") {
		return unit{code: "[hnsf'U]", display: "HU"}
	}
	return unit{code: "1"}
}

func roundTo(v float64, decimals int) float64 {
	scale := math.Pow(10, float64(decimals))
	return math.Round(v*scale) / scale
}

// randomUUID returns a random version 4 UUID in its text form.
func randomUUID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("analyze: generate an id: %w", err)
	}
	u[6] = u[6]&0x0F | 0x40
	u[8] = u[8]&0x3F | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}
