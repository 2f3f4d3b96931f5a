package dicomreader

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"sync/atomic"

	"github.com/healthhub/healthhub/sdk"
)

// Version is the imaging-dicom provider version.
const Version = "0.1.0"

// Info returns the description of the imaging-dicom provider. Objects are
// parsed in the plugin process and nothing is kept after the call, so the
// data-use declaration has no egress and zero retention.
func Info() sdk.Info {
	return sdk.Info{
		Name:            "imaging-dicom",
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindImaging},
		ProtocolVersion: sdk.ProtocolVersion,
		Capabilities:    []string{sdk.CapabilityStudy, sdk.CapabilityDeidentify},
		DataUse:         sdk.DataUse{Egress: false, RetentionDays: 0},
	}
}

// Reader reads, renders, measures and de-identifies DICOM objects. It
// implements sdk.StudyReader, sdk.Deidentifier, sdk.ImageAnalyzer (pixel
// statistics), sdk.Configurer and sdk.HealthChecker, and is safe for
// concurrent use. The zero Reader uses the default configuration.
type Reader struct {
	settings atomic.Pointer[settings]
}

var (
	_ sdk.ImageAnalyzer = (*Reader)(nil)
	_ sdk.StudyReader   = (*Reader)(nil)
	_ sdk.Deidentifier  = (*Reader)(nil)
	_ sdk.Configurer    = (*Reader)(nil)
	_ sdk.HealthChecker = (*Reader)(nil)
)

// New returns a Reader with the given configuration.
func New(cfg Config) (*Reader, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	r := &Reader{}
	r.settings.Store(s)
	return r, nil
}

// Configure replaces the configuration with the JSON object config. Calls
// in progress finish with the settings they started with.
func (r *Reader) Configure(_ context.Context, config json.RawMessage) error {
	cfg, err := decodeConfig(config)
	if err != nil {
		return err
	}
	s, err := cfg.resolve()
	if err != nil {
		return err
	}
	r.settings.Store(s)
	return nil
}

// Settings returns the configuration in force, with the defaults applied.
func (r *Reader) Settings() Config {
	s := r.current()
	cfg := Config{MaxObjectBytes: s.maxObjectBytes}
	if s.zone != nil {
		cfg.TimeZone = s.zone.String()
	}
	return cfg
}

func (r *Reader) current() *settings {
	if s := r.settings.Load(); s != nil {
		return s
	}
	s, _ := Config{}.resolve()
	return s
}

// CheckHealth returns nil: the reader depends on nothing outside the
// process.
func (r *Reader) CheckHealth(context.Context) error {
	return nil
}

// ReadStudy parses a DICOM object and returns its study, series and
// instance metadata as a FHIR R4 ImagingStudy whose subject is req.Subject,
// with a PNG preview of the first frame. The window of the preview comes
// from the parameters window_center and window_width, else from the file,
// else from the range of the pixel values. Preview is nil for an object
// without pixel data or with pixel data in a compressed transfer syntax
// other than JPEG Baseline.
//
// A truncated or malformed object is rejected with ErrInvalid, one larger
// than max_object_bytes with ErrTooLarge, and an encoding the parser cannot
// read (deflate, 64-bit VRs) with ErrNotSupported.
func (r *Reader) ReadStudy(ctx context.Context, req sdk.ImagingRequest) (*sdk.Study, error) {
	if err := checkSubject(req.Subject); err != nil {
		return nil, err
	}
	s := r.current()
	obj, err := s.read(ctx, req)
	if err != nil {
		return nil, err
	}

	study, err := imagingStudyJSON(obj, req.Subject, s.zone)
	if err != nil {
		return nil, err
	}
	preview, err := renderPreview(obj, req.Parameters)
	if err != nil {
		return nil, err
	}
	return &sdk.Study{ImagingStudy: study, Preview: preview}, nil
}

// Deidentify writes a copy of the object de-identified by the DICOM PS3.15
// Basic Application Level Confidentiality Profile to w, and returns one
// action per attribute changed, without values. Pixel data is copied
// unchanged, so an object with Burned In Annotation YES is rejected with
// ErrNotSupported. The parameters patient_id_pseudonym and
// patient_name_pseudonym replace the emptied Patient ID and Patient's Name.
// Nothing is written to w when an error is returned.
func (r *Reader) Deidentify(ctx context.Context, req sdk.ImagingRequest, w io.Writer) (*sdk.DeidentifyResult, error) {
	obj, err := r.current().read(ctx, req)
	if err != nil {
		return nil, err
	}
	out, actions, err := deidentifyObject(obj, req.Parameters, Version)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(out); err != nil {
		return nil, fmt.Errorf("de-identify: write the result: %w", err)
	}
	return &sdk.DeidentifyResult{Profile: ProfileName, Actions: actions}, nil
}

// Analyze measures the modality values of the first frame (mean, standard
// deviation, minimum and maximum, in Hounsfield units for CT) and returns
// them as Observations of a DiagnosticReport. It is a measurement, not a
// diagnosis: this provider runs no trained model. Objects without a
// monochrome first frame it can decode are rejected with ErrNotSupported,
// as is a request for any model other than "pixel-statistics".
func (r *Reader) Analyze(ctx context.Context, req sdk.ImagingRequest) (*sdk.ImagingResult, error) {
	if req.Model != "" && req.Model != StatisticsModel {
		return nil, sdk.Errorf(sdk.CodeNotSupported, "analyze: model %q is not available; this provider offers only %q", req.Model, StatisticsModel)
	}
	obj, err := r.current().read(ctx, req)
	if err != nil {
		return nil, err
	}
	return analysisResult(obj, req.Subject, Version)
}

// read checks the request and parses its object.
func (s *settings) read(ctx context.Context, req sdk.ImagingRequest) (*object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.ContentType != "" {
		mediaType, _, err := mime.ParseMediaType(req.ContentType)
		if err != nil || mediaType != "application/dicom" {
			return nil, sdk.Errorf(sdk.CodeNotSupported, "read dicom: content type %q is not supported; this provider reads DICOM Part 10 objects (application/dicom)", req.ContentType)
		}
	}
	return readObject(ctx, req.Object, s.maxObjectBytes)
}
