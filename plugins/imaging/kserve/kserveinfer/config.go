package kserveinfer

import (
	"fmt"
	"time"

	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Defaults of the settings in Config.
const (
	DefaultTimeout          = 60 * time.Second
	DefaultMaxResponseBytes = 16 << 20
	DefaultMaxImageBytes    = 32 << 20
	// DefaultMaxImagePixels bounds the decoded size of an image, so a small
	// file that declares huge dimensions cannot exhaust memory.
	DefaultMaxImagePixels = 64 << 20
)

// Input encodings.
const (
	EncodingBytes = "bytes"
	EncodingUint8 = "uint8"
	EncodingFP32  = "fp32"
)

// Config configures an Analyzer. The JSON form is the plugin's
// configuration object in the hub configuration.
type Config struct {
	// Endpoint is the model server's base URL, below which the /v2 routes
	// live, such as "http://127.0.0.1:8080". Required.
	Endpoint string `json:"endpoint"`
	// APIKey is sent as a bearer token, for servers behind an
	// authenticating proxy. Prefer APIKeyFile. Default: none.
	APIKey string `json:"api_key,omitempty"`
	// APIKeyFile is the path of a file that contains the bearer token.
	APIKeyFile string `json:"api_key_file,omitempty"`
	// Model is the model name on the server. Required.
	Model string `json:"model"`
	// ModelVersion selects a version of the model. Default: the server's
	// choice.
	ModelVersion string `json:"model_version,omitempty"`

	Input  InputConfig  `json:"input"`
	Output OutputConfig `json:"output"`
	Report ReportConfig `json:"report"`

	// MaxImageBytes is the largest image accepted, in bytes. Default 32 MiB.
	MaxImageBytes int64 `json:"max_image_bytes,omitempty"`

	// HTTP adds timeout (default "60s" here), connect_timeout, max_retries,
	// max_retry_wait, max_response_bytes (default 16 MiB here) and
	// allow_insecure_http.
	settings.HTTP

	// DataUse states what the model server's operator does with the images.
	DataUse settings.DataUse `json:"data_use"`
}

// InputConfig describes how the image becomes the input tensor. See the package
// documentation for the encodings.
type InputConfig struct {
	// Name is the input tensor's name in the model metadata. Required.
	Name string `json:"name"`
	// Encoding is "bytes", "uint8" or "fp32". Default "bytes".
	Encoding string `json:"encoding,omitempty"`
	// Width and Height are the pixel size the image is resized to.
	// Required for uint8 and fp32.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Channels is 3 for RGB or 1 for grayscale. Default 3.
	Channels int `json:"channels,omitempty"`
	// Layout is "NHWC" or "NCHW". Default "NHWC".
	Layout string `json:"layout,omitempty"`
	// Batch adds a leading dimension of 1 to the shape. Default true.
	Batch *bool `json:"batch,omitempty"`
	// Scale multiplies each 0..255 value for fp32. Default 1/255.
	Scale *float64 `json:"scale,omitempty"`
	// Mean and Std normalize each channel for fp32; each has one value per
	// channel. Default: mean 0 and std 1.
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
}

// OutputConfig describes how the output tensor becomes Observations.
type OutputConfig struct {
	// Name is the output tensor to read. Default: the first output in the
	// response.
	Name string `json:"name,omitempty"`
	// Activation is "none", "softmax" or "sigmoid". Default "none".
	Activation string `json:"activation,omitempty"`
	// Labels codes each class, in the order of the output values.
	// Required.
	Labels []Coding `json:"labels"`
	// MinProbability drops classes below this probability, from 0 to 1.
	// Default 0, keeping all.
	MinProbability float64 `json:"min_probability,omitempty"`
	// TopK keeps at most this many Observations, most probable first.
	// Default 0, keeping all.
	TopK int `json:"top_k,omitempty"`
}

// ReportConfig sets the fixed parts of the DiagnosticReport.
type ReportConfig struct {
	// Code is the report's code. Default LOINC 18748-4 "Diagnostic imaging
	// study".
	Code *Coding `json:"code,omitempty"`
	// Status is the status of the report and its Observations:
	// "preliminary" or "final". Default "preliminary", because the findings
	// come from a model and await review.
	Status string `json:"status,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

var defaultReportCode = Coding{System: "http://loinc.org", Code: "18748-4", Display: "Diagnostic imaging study"}

// validate checks the settings that need no network, returning an outcome
// with the path of the first bad one.
func (c Config) validate() error {
	if c.Model == "" {
		return required("/model", "model is missing; set it to the model's name on the server")
	}
	if c.MaxImageBytes < 0 {
		return sdk.Invalidf("/max_image_bytes", "configure %s: max_image_bytes is %d; use a positive byte count", Name, c.MaxImageBytes)
	}
	if err := c.Input.validate(); err != nil {
		return err
	}
	if err := c.Output.validate(); err != nil {
		return err
	}
	switch c.Report.Status {
	case "", "preliminary", "final":
	default:
		return sdk.Invalidf("/report/status", "configure %s: report status %q is not supported; use \"preliminary\" or \"final\"", Name, c.Report.Status)
	}
	if c.Report.Code != nil && c.Report.Code.Code == "" {
		return required("/report/code/code", "report code has no code")
	}
	return nil
}

func (in InputConfig) validate() error {
	if in.Name == "" {
		return required("/input/name", "input name is missing; set it to the input tensor's name in the model metadata")
	}
	switch in.encoding() {
	case EncodingBytes:
		return nil
	case EncodingUint8, EncodingFP32:
	default:
		return sdk.Invalidf("/input/encoding", "configure %s: input encoding %q is not supported; use \"bytes\", \"uint8\" or \"fp32\"", Name, in.Encoding)
	}

	if in.Width <= 0 || in.Height <= 0 || in.Width > 8192 || in.Height > 8192 {
		return sdk.Invalidf("/input/width", "configure %s: input width and height must be from 1 to 8192 pixels for encoding %q, got %dx%d", Name, in.encoding(), in.Width, in.Height)
	}
	if channels := in.channels(); channels != 1 && channels != 3 {
		return sdk.Invalidf("/input/channels", "configure %s: input channels is %d; use 3 for RGB or 1 for grayscale", Name, in.Channels)
	}
	switch in.Layout {
	case "", "NHWC", "NCHW":
	default:
		return sdk.Invalidf("/input/layout", "configure %s: input layout %q is not supported; use \"NHWC\" or \"NCHW\"", Name, in.Layout)
	}
	return in.validateNormalization()
}

func (in InputConfig) validateNormalization() error {
	channels := in.channels()
	if len(in.Mean) != 0 && len(in.Mean) != channels {
		return sdk.Invalidf("/input/mean", "configure %s: input mean has %d values; give one per channel (%d)", Name, len(in.Mean), channels)
	}
	if len(in.Std) != 0 && len(in.Std) != channels {
		return sdk.Invalidf("/input/std", "configure %s: input std has %d values; give one per channel (%d)", Name, len(in.Std), channels)
	}
	for i, std := range in.Std {
		if std == 0 {
			return sdk.Invalidf(fmt.Sprintf("/input/std/%d", i), "configure %s: input std %d is 0, which would divide by zero", Name, i)
		}
	}
	return nil
}

func (in InputConfig) encoding() string {
	if in.Encoding == "" {
		return EncodingBytes
	}
	return in.Encoding
}

func (in InputConfig) channels() int {
	if in.Channels == 0 {
		return 3
	}
	return in.Channels
}

func (in InputConfig) batch() bool {
	return in.Batch == nil || *in.Batch
}

func (in InputConfig) scale() float64 {
	if in.Scale == nil {
		return 1.0 / 255
	}
	return *in.Scale
}

func (out OutputConfig) validate() error {
	if len(out.Labels) == 0 {
		return required("/output/labels", "output labels are missing; list one coding per class of the model's output")
	}
	for i, label := range out.Labels {
		if label.Code == "" {
			return required(fmt.Sprintf("/output/labels/%d/code", i), fmt.Sprintf("output label %d has no code", i))
		}
	}
	switch out.Activation {
	case "", "none", "softmax", "sigmoid":
	default:
		return sdk.Invalidf("/output/activation", "configure %s: output activation %q is not supported; use \"none\", \"softmax\" or \"sigmoid\"", Name, out.Activation)
	}
	if out.MinProbability < 0 || out.MinProbability > 1 {
		return sdk.Invalidf("/output/min_probability", "configure %s: output min_probability is %g; use a value from 0 to 1", Name, out.MinProbability)
	}
	if out.TopK < 0 {
		return sdk.Invalidf("/output/top_k", "configure %s: output top_k is %d; use 0 for all classes or a positive count", Name, out.TopK)
	}
	return nil
}

func required(path, message string) error {
	return sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Path: path, Diagnostics: "configure " + Name + ": " + message})
}
