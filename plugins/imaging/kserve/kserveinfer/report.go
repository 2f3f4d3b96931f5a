package kserveinfer

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// FHIR terminology used in the resources.
const (
	observationCategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
	diagnosticServiceSystem   = "http://terminology.hl7.org/CodeSystem/v2-0074"
	ucumSystem                = "http://unitsofmeasure.org"
)

type codeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type reference struct {
	Reference string `json:"reference"`
}

type quantity struct {
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	System string  `json:"system"`
	Code   string  `json:"code"`
}

type observation struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	Category      []codeableConcept `json:"category"`
	Code          codeableConcept   `json:"code"`
	Subject       *reference        `json:"subject,omitempty"`
	Issued        string            `json:"issued"`
	ValueQuantity quantity          `json:"valueQuantity"`
	Method        *codeableConcept  `json:"method,omitempty"`
}

type diagnosticReport struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Category       []codeableConcept `json:"category"`
	Code           codeableConcept   `json:"code"`
	Subject        *reference        `json:"subject,omitempty"`
	Issued         string            `json:"issued"`
	Result         []reference       `json:"result,omitempty"`
	Conclusion     string            `json:"conclusion,omitempty"`
	ConclusionCode []codeableConcept `json:"conclusionCode,omitempty"`
}

// finding is one class that passed the threshold.
type finding struct {
	label       Coding
	probability float64
}

// result builds the DiagnosticReport and its Observations.
func (s *state) result(req sdk.ImagingRequest, parsed inferResponse, probabilities []float64) (*sdk.ImagingResult, error) {
	findings := s.findings(probabilities)
	status := s.cfg.Report.Status
	if status == "" {
		status = "preliminary"
	}
	issued := time.Now().UTC().Format(time.RFC3339)
	var subject *reference
	if req.Subject != "" {
		subject = &reference{Reference: req.Subject}
	}
	modelName, modelVersion := parsed.ModelName, parsed.ModelVersion
	if modelName == "" {
		modelName = s.cfg.Model
	}
	method := &codeableConcept{Coding: []Coding{}, Text: modelText(modelName, modelVersion)}

	out := &sdk.ImagingResult{Model: modelName, ModelVersion: modelVersion}
	report := s.newReport(status, issued, subject)
	for _, f := range findings {
		obs := observation{
			ResourceType:  "Observation",
			ID:            newUUID(),
			Status:        status,
			Category:      []codeableConcept{{Coding: []Coding{{System: observationCategorySystem, Code: "imaging", Display: "Imaging"}}}},
			Code:          codeableConcept{Coding: []Coding{f.label}, Text: f.label.Display},
			Subject:       subject,
			Issued:        issued,
			ValueQuantity: quantity{Value: roundProbability(f.probability), Unit: "probability", System: ucumSystem, Code: "1"},
			Method:        method,
		}
		encoded, err := json.Marshal(obs)
		if err != nil {
			return nil, fmt.Errorf("analyze: encode observation: %w", err)
		}
		out.Observations = append(out.Observations, encoded)
		report.Result = append(report.Result, reference{Reference: "urn:uuid:" + obs.ID})
	}
	if len(findings) > 0 {
		top := findings[0]
		report.Conclusion = fmt.Sprintf("Most probable finding: %s (probability %.3f), from model %s.", labelText(top.label), top.probability, method.Text)
		report.ConclusionCode = []codeableConcept{{Coding: []Coding{top.label}}}
	}

	encoded, err := json.Marshal(report)
	if err != nil {
		return nil, fmt.Errorf("analyze: encode report: %w", err)
	}
	out.Report = encoded
	return out, nil
}

func (s *state) newReport(status, issued string, subject *reference) diagnosticReport {
	code := defaultReportCode
	if s.cfg.Report.Code != nil {
		code = *s.cfg.Report.Code
	}
	return diagnosticReport{
		ResourceType: "DiagnosticReport",
		ID:           newUUID(),
		Status:       status,
		Category:     []codeableConcept{{Coding: []Coding{{System: diagnosticServiceSystem, Code: "RAD", Display: "Radiology"}}}},
		Code:         codeableConcept{Coding: []Coding{code}, Text: code.Display},
		Subject:      subject,
		Issued:       issued,
	}
}

// findings returns the classes at or above the threshold, most probable
// first, cut to top_k.
func (s *state) findings(probabilities []float64) []finding {
	var out []finding
	for i, p := range probabilities {
		if p >= s.cfg.Output.MinProbability {
			out = append(out, finding{label: s.cfg.Output.Labels[i], probability: p})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].probability > out[j].probability })
	if k := s.cfg.Output.TopK; k > 0 && len(out) > k {
		out = out[:k]
	}
	return out
}

// roundProbability keeps six decimals, which is finer than any model's
// calibration and keeps float noise out of the resources.
func roundProbability(p float64) float64 {
	const scale = 1e6
	return float64(int64(p*scale+0.5)) / scale
}

func modelText(name, version string) string {
	if version == "" {
		return name
	}
	return name + " version " + version
}

func labelText(label Coding) string {
	if label.Display != "" {
		return label.Display
	}
	return label.Code
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
