package kserveinfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/payload"
	"github.com/healthhub/healthhub/sdk"
)

// inferResponse is the body of a v2 inference response.
type inferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	Outputs      []outputTensor `json:"outputs"`
}

type outputTensor struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
	// Data is flat in row-major order, or nested by shape; servers send
	// either.
	Data json.RawMessage `json:"data"`
}

// Analyze sends the image to the model and returns its findings as a
// DiagnosticReport with one Observation per reported class.
func (a *Analyzer) Analyze(ctx context.Context, req sdk.ImagingRequest) (*sdk.ImagingResult, error) {
	s, err := a.current()
	if err != nil {
		return nil, err
	}
	if req.Model != "" && req.Model != s.cfg.Model {
		return nil, sdk.Errorf(sdk.CodeNotSupported, "analyze: model %q is not configured; this provider serves model %q", req.Model, s.cfg.Model)
	}
	body, err := s.inferBody(ctx, req)
	if err != nil {
		return nil, err
	}

	resp, err := s.client.Do(ctx, httpx.Request{
		Op: "analyze", Method: http.MethodPost, Path: s.modelPath + "/infer",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: body,
	})
	if err != nil {
		return nil, err
	}

	var parsed inferResponse
	if err := json.Unmarshal(resp.Body, &parsed); err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "analyze: %s returned a body that is not a v2 inference response: %v", s.client.Host(), err)
	}
	probabilities, err := s.probabilities(parsed)
	if err != nil {
		return nil, err
	}
	return s.result(req, parsed, probabilities)
}

// inferBody reads the image within the size limit and encodes the v2
// inference request.
func (s *state) inferBody(ctx context.Context, req sdk.ImagingRequest) ([]byte, error) {
	if req.Object == nil {
		return nil, sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeRequired, Diagnostics: "analyze: image object is missing"})
	}
	limit := s.cfg.MaxImageBytes
	if limit == 0 {
		limit = DefaultMaxImageBytes
	}
	if err := checkContentType(s.cfg.Input.encoding(), req.ContentType); err != nil {
		return nil, err
	}
	image, err := payload.Read(ctx, req.Object, limit)
	if errors.Is(err, payload.ErrTooLarge) {
		return nil, sdk.Errorf(sdk.CodeTooLong, "analyze: image is larger than max_image_bytes (%d bytes)", limit)
	}
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if len(image) == 0 {
		return nil, sdk.Invalidf("", "analyze: image object is empty")
	}

	input, err := buildTensor(s.cfg.Input, image, req.ContentType, DefaultMaxImagePixels)
	if err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	buf.Grow(input.elements()*8 + 256)
	buf.WriteString(`{"inputs":[`)
	input.writeJSON(&buf)
	buf.WriteString(`]`)
	if name := s.cfg.Output.Name; name != "" {
		encoded, _ := json.Marshal(name)
		buf.WriteString(`,"outputs":[{"name":`)
		buf.Write(encoded)
		buf.WriteString(`}]`)
	}
	buf.WriteString(`}`)
	return buf.Bytes(), nil
}

// probabilities picks the configured output, checks that it has one value
// per label, and applies the activation.
func (s *state) probabilities(parsed inferResponse) ([]float64, error) {
	out, err := s.pickOutput(parsed.Outputs)
	if err != nil {
		return nil, err
	}
	var nested any
	if err := json.Unmarshal(out.Data, &nested); err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "analyze: output %q data is not valid JSON: %v", out.Name, err)
	}
	values, err := flatten(nested, nil)
	if err != nil {
		return nil, sdk.Upstreamf(sdk.CodeException, "analyze: output %q: %v", out.Name, err)
	}
	labels := len(s.cfg.Output.Labels)
	if len(values) != labels {
		return nil, sdk.Invalidf("/output/labels", "analyze: output %q has %d values (shape %v) but output.labels lists %d classes; give one label per value", out.Name, len(values), out.Shape, labels)
	}
	return activate(values, s.cfg.Output.Activation), nil
}

func (s *state) pickOutput(outputs []outputTensor) (outputTensor, error) {
	name := s.cfg.Output.Name
	for _, out := range outputs {
		if name == "" || out.Name == name {
			return out, nil
		}
	}
	if name == "" {
		return outputTensor{}, sdk.Upstreamf(sdk.CodeException, "analyze: %s returned no output tensor", s.client.Host())
	}
	return outputTensor{}, sdk.Upstreamf(sdk.CodeException, "analyze: %s returned no output %q", s.client.Host(), name)
}

// flatten appends the numbers of a nested JSON array in row-major order.
// BOOL tensors count true as 1.
func flatten(value any, out []float64) ([]float64, error) {
	switch v := value.(type) {
	case []any:
		for _, element := range v {
			var err error
			if out, err = flatten(element, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	case float64:
		return append(out, v), nil
	case bool:
		if v {
			return append(out, 1), nil
		}
		return append(out, 0), nil
	}
	return nil, fmt.Errorf("data contains %T, expected numbers", value)
}

// activate turns model scores into probabilities.
func activate(values []float64, activation string) []float64 {
	out := make([]float64, len(values))
	switch activation {
	case "softmax":
		peak := math.Inf(-1)
		for _, v := range values {
			peak = math.Max(peak, v)
		}
		sum := 0.0
		for i, v := range values {
			out[i] = math.Exp(v - peak)
			sum += out[i]
		}
		for i := range out {
			out[i] /= sum
		}
	case "sigmoid":
		for i, v := range values {
			out[i] = 1 / (1 + math.Exp(-v))
		}
	default:
		copy(out, values)
	}
	return out
}
