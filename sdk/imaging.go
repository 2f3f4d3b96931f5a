package sdk

import (
	"context"
	"encoding/json"
	"io"
)

// ImagingRequest is an image object to work on.
type ImagingRequest struct {
	// Object is the DICOM Part 10 file or image.
	Object io.Reader
	// ContentType is the object's MIME type: "application/dicom",
	// "image/png" or "image/jpeg".
	ContentType string
	// Model selects a model where the provider has several. Empty means
	// the provider's configured default.
	Model string
	// Subject is a FHIR reference to the patient, such as "Patient/123",
	// to put in the resources the provider returns. It may be a pseudonym.
	Subject string
	// Parameters are provider-specific settings, such as a window centre
	// for a preview.
	Parameters map[string]string
}

// ImagingResult is a provider's findings on one object, as FHIR-like JSON.
type ImagingResult struct {
	// Report is a DiagnosticReport resource.
	Report json.RawMessage `json:"report"`
	// Observations are Observation resources that Report.result refers to
	// by "urn:uuid:" references or contained ids.
	Observations []json.RawMessage `json:"observations,omitempty"`
	// Model and ModelVersion identify the model that produced the findings.
	Model        string `json:"model,omitempty"`
	ModelVersion string `json:"model_version,omitempty"`
}

// ImageAnalyzer produces findings from an image: the provider kind
// "imaging".
type ImageAnalyzer interface {
	Analyze(ctx context.Context, req ImagingRequest) (*ImagingResult, error)
}

// Study is what a provider reads from a DICOM object without analysing it.
type Study struct {
	// ImagingStudy is an ImagingStudy resource with the study, series and
	// instance metadata.
	ImagingStudy json.RawMessage `json:"imaging_study"`
	// Preview is a PNG rendering of the first frame, or nil when the object
	// has no pixel data.
	Preview []byte `json:"preview,omitempty"`
}

// StudyReader is implemented by imaging providers that extract study
// metadata and a preview (capability "study").
type StudyReader interface {
	ReadStudy(ctx context.Context, req ImagingRequest) (*Study, error)
}

// DeidentifyResult reports what de-identification changed.
type DeidentifyResult struct {
	// Profile is the confidentiality profile applied, such as
	// "PS3.15 basic".
	Profile string `json:"profile"`
	// Actions lists one entry per attribute changed, such as
	// "(0010,0010) PatientName: removed".
	Actions []string `json:"actions,omitempty"`
}

// Deidentifier is implemented by imaging providers that de-identify objects
// (capability "deidentify"). Deidentify writes the de-identified object to
// w.
type Deidentifier interface {
	Deidentify(ctx context.Context, req ImagingRequest, w io.Writer) (*DeidentifyResult, error)
}
