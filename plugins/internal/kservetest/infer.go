package kservetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for BYTES inputs
	_ "image/png"  // registers the PNG decoder for BYTES inputs
	"math"
	"net/http"
)

type inferRequest struct {
	ID     string `json:"id"`
	Inputs []struct {
		Name     string          `json:"name"`
		Shape    []int64         `json:"shape"`
		Datatype string          `json:"datatype"`
		Data     json.RawMessage `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name string `json:"name"`
	} `json:"outputs"`
}

func (s *Server) handleInfer(w http.ResponseWriter, r *http.Request) {
	m := s.model(w, r)
	if m == nil {
		return
	}
	var req inferRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 256<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "Unrecognized request format: "+err.Error())
		return
	}

	inputs, err := checkInputs(m, req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, out := range req.Outputs {
		if _, ok := findSpec(m.Outputs, out.Name); !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unexpected inference output '%s' for model '%s'", out.Name, m.Name))
			return
		}
	}
	s.mu.Lock()
	s.lastInfer = inputs
	s.mu.Unlock()

	infer := m.Infer
	if infer == nil {
		infer = MeanIntensityScores(m.Outputs[0])
	}
	outputs, err := infer(inputs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, inferResponse(m, req.ID, outputs))
}

func inferResponse(m *Model, id string, outputs []Tensor) map[string]any {
	encoded := make([]map[string]any, len(outputs))
	for i, out := range outputs {
		encoded[i] = map[string]any{"name": out.Name, "datatype": out.Datatype, "shape": out.Shape, "data": out.Values}
	}
	version := ""
	if len(m.Versions) > 0 {
		version = m.Versions[len(m.Versions)-1]
	}
	return map[string]any{"model_name": m.Name, "model_version": version, "id": id, "outputs": encoded}
}

// checkInputs validates every declared input against the request.
func checkInputs(m *Model, req inferRequest) ([]Tensor, error) {
	if len(req.Inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("expected %d inputs but got %d inputs for model '%s'", len(m.Inputs), len(req.Inputs), m.Name)
	}
	var tensors []Tensor
	for _, in := range req.Inputs {
		spec, ok := findSpec(m.Inputs, in.Name)
		if !ok {
			return nil, fmt.Errorf("unexpected inference input '%s' for model '%s'", in.Name, m.Name)
		}
		if in.Datatype != spec.Datatype {
			return nil, fmt.Errorf("inference input '%s' data-type is '%s', but model '%s' expects '%s'", in.Name, in.Datatype, m.Name, spec.Datatype)
		}
		if !shapeMatches(spec.Shape, in.Shape) {
			return nil, fmt.Errorf("unexpected shape for input '%s' for model '%s'. Expected %v, got %v", in.Name, m.Name, spec.Shape, in.Shape)
		}
		tensor, err := decodeData(in.Name, in.Datatype, in.Shape, in.Data)
		if err != nil {
			return nil, err
		}
		tensors = append(tensors, tensor)
	}
	return tensors, nil
}

// decodeData reads a flat data array and checks its element count and
// element types against the datatype and shape.
func decodeData(name, datatype string, shape []int64, raw json.RawMessage) (Tensor, error) {
	t := Tensor{Name: name, Datatype: datatype, Shape: shape}
	count := int64(1)
	for _, dim := range shape {
		count *= dim
	}

	if datatype == "BYTES" {
		var encoded []string
		if err := json.Unmarshal(raw, &encoded); err != nil {
			return t, fmt.Errorf("input '%s': BYTES data must be an array of strings", name)
		}
		if int64(len(encoded)) != count {
			return t, fmt.Errorf("input '%s': expected %d elements for shape %v, got %d", name, count, shape, len(encoded))
		}
		for _, element := range encoded {
			decoded, err := base64.StdEncoding.DecodeString(element)
			if err != nil {
				return t, fmt.Errorf("input '%s': element is not base64: %v", name, err)
			}
			if _, _, err := image.DecodeConfig(bytes.NewReader(decoded)); err != nil {
				return t, fmt.Errorf("input '%s': element is not a PNG or JPEG image: %v", name, err)
			}
			t.Bytes = append(t.Bytes, decoded)
		}
		return t, nil
	}

	if err := json.Unmarshal(raw, &t.Values); err != nil {
		return t, fmt.Errorf("input '%s': %s data must be a flat array of numbers: %v", name, datatype, err)
	}
	if int64(len(t.Values)) != count {
		return t, fmt.Errorf("input '%s': expected %d elements for shape %v, got %d", name, count, shape, len(t.Values))
	}
	if datatype == "UINT8" {
		for _, v := range t.Values {
			if v < 0 || v > 255 || v != math.Trunc(v) {
				return t, fmt.Errorf("input '%s': UINT8 element %g is out of range", name, v)
			}
		}
	}
	return t, nil
}

// MeanIntensityScores returns an Infer function that writes one FP32
// output of the spec's shape. Its values are softmax scores over the
// classes whose logits grow with the mean input intensity, normalized to 0..1
// by the datatype (UINT8 and decoded BYTES images over 255, FP32 as sent).
func MeanIntensityScores(output TensorSpec) func([]Tensor) ([]Tensor, error) {
	return func(inputs []Tensor) ([]Tensor, error) {
		mean, err := meanIntensity(inputs[0])
		if err != nil {
			return nil, err
		}
		classes := int64(1)
		shape := make([]int64, len(output.Shape))
		for i, dim := range output.Shape {
			if dim == -1 {
				dim = 1
			}
			shape[i] = dim
			classes *= dim
		}
		logits := make([]float64, classes)
		for k := range logits {
			logits[k] = mean * float64(k+1) * 4
		}
		return []Tensor{{Name: output.Name, Datatype: "FP32", Shape: shape, Values: softmax(logits)}}, nil
	}
}

func meanIntensity(t Tensor) (float64, error) {
	if t.Datatype == "BYTES" {
		img, _, err := image.Decode(bytes.NewReader(t.Bytes[0]))
		if err != nil {
			return 0, err
		}
		sum, count := 0.0, 0
		bounds := img.Bounds()
		for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
			for x := bounds.Min.X; x < bounds.Max.X; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				sum += float64(r+g+b) / 3 / 65535
				count++
			}
		}
		return sum / float64(count), nil
	}
	scale := 1.0
	if t.Datatype == "UINT8" {
		scale = 1.0 / 255
	}
	sum := 0.0
	for _, v := range t.Values {
		sum += v * scale
	}
	return sum / float64(len(t.Values)), nil
}

func softmax(logits []float64) []float64 {
	out := make([]float64, len(logits))
	sum := 0.0
	for i, v := range logits {
		out[i] = math.Exp(v)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func findSpec(specs []TensorSpec, name string) (TensorSpec, bool) {
	for _, spec := range specs {
		if spec.Name == name {
			return spec, true
		}
	}
	return TensorSpec{}, false
}

func shapeMatches(declared, sent []int64) bool {
	if len(declared) != len(sent) {
		return false
	}
	for i, dim := range declared {
		if dim != -1 && dim != sent[i] {
			return false
		}
	}
	return true
}
