package kserveinfer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/sdk"
)

// modelMetadata is the body of GET /v2/models/{name}.
type modelMetadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorSpec `json:"inputs"`
	Outputs  []tensorSpec `json:"outputs"`
}

type tensorSpec struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// CheckHealth checks that the server and the model are ready, then reads
// the model metadata and checks that the configured input tensor exists
// with the datatype and shape the plugin sends, and that the configured
// output tensor exists.
func (a *Analyzer) CheckHealth(ctx context.Context) error {
	s, err := a.current()
	if err != nil {
		return err
	}
	for _, path := range []string{"v2/health/ready", s.modelPath + "/ready"} {
		if _, err := s.client.Do(ctx, httpx.Request{Op: "check health", Method: http.MethodGet, Path: path}); err != nil {
			return err
		}
	}

	resp, err := s.client.Do(ctx, httpx.Request{Op: "check health", Method: http.MethodGet, Path: s.modelPath})
	if err != nil {
		return err
	}
	var metadata modelMetadata
	if err := json.Unmarshal(resp.Body, &metadata); err != nil {
		return sdk.Upstreamf(sdk.CodeException, "check health: model metadata from %s is not valid JSON: %v", s.client.Host(), err)
	}
	return s.checkMetadata(metadata)
}

// checkMetadata compares the model's declared tensors with the
// configuration. A mismatch is a configuration error, reported with the
// path of the setting to change.
func (s *state) checkMetadata(metadata modelMetadata) error {
	in := s.cfg.Input
	spec, ok := findSpec(metadata.Inputs, in.Name)
	if !ok {
		return sdk.Invalidf("/input/name", "check health: model %q has no input %q; its inputs are %s", s.cfg.Model, in.Name, specNames(metadata.Inputs))
	}
	datatype := map[string]string{EncodingBytes: "BYTES", EncodingUint8: "UINT8", EncodingFP32: "FP32"}[in.encoding()]
	if spec.Datatype != datatype {
		return sdk.Invalidf("/input/encoding", "check health: model input %q takes %s, but encoding %q sends %s", in.Name, spec.Datatype, in.encoding(), datatype)
	}
	if in.encoding() != EncodingBytes && !shapeMatches(spec.Shape, in.shape()) {
		return sdk.Invalidf("/input", "check health: model input %q has shape %v, but the settings produce %v; adjust width, height, channels, layout or batch", in.Name, spec.Shape, in.shape())
	}

	if name := s.cfg.Output.Name; name != "" {
		if _, ok := findSpec(metadata.Outputs, name); !ok {
			return sdk.Invalidf("/output/name", "check health: model %q has no output %q; its outputs are %s", s.cfg.Model, name, specNames(metadata.Outputs))
		}
	}
	return nil
}

func findSpec(specs []tensorSpec, name string) (tensorSpec, bool) {
	for _, spec := range specs {
		if spec.Name == name {
			return spec, true
		}
	}
	return tensorSpec{}, false
}

func specNames(specs []tensorSpec) string {
	names := make([]string, len(specs))
	for i, spec := range specs {
		names[i] = fmt.Sprintf("%q", spec.Name)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// shapeMatches compares a declared shape, where -1 is a variable
// dimension, with the shape sent.
func shapeMatches(declared []int64, sent []int) bool {
	if len(declared) != len(sent) {
		return false
	}
	for i, dim := range declared {
		if dim != -1 && dim != int64(sent[i]) {
			return false
		}
	}
	return true
}
