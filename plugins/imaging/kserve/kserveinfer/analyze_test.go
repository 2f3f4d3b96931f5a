package kserveinfer

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/internal/kservetest"
	"github.com/healthhub/healthhub/sdk"
)

var threeLabels = []Coding{
	{System: "http://snomed.info/sct", Code: "233604007", Display: "Pneumonia"},
	{System: "http://snomed.info/sct", Code: "36118008", Display: "Pneumothorax"},
	{System: "http://snomed.info/sct", Code: "17621005", Display: "Normal"},
}

// solidPNG encodes a width by height PNG of one colour.
func solidPNG(t *testing.T, width, height int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// gradientJPEG encodes a horizontal grey gradient as JPEG.
func gradientJPEG(t testing.TB, width, height int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			img.SetGray(x, y, color.Gray{Y: uint8(x * 255 / (width - 1))})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}))
	return buf.Bytes()
}

func classifier(inputName, datatype string, shape []int64) *kservetest.Model {
	return &kservetest.Model{
		Name:     "chest-xray",
		Versions: []string{"1", "2"},
		Platform: "onnxruntime_onnx",
		Inputs:   []kservetest.TensorSpec{{Name: inputName, Datatype: datatype, Shape: shape}},
		Outputs:  []kservetest.TensorSpec{{Name: "probabilities", Datatype: "FP32", Shape: []int64{-1, 3}}},
	}
}

func startServer(t *testing.T, models ...*kservetest.Model) *kservetest.Server {
	t.Helper()
	server := kservetest.New(models...)
	t.Cleanup(server.Close)
	return server
}

func baseConfig(server *kservetest.Server, in InputConfig) Config {
	return Config{
		Endpoint: server.URL,
		Model:    "chest-xray",
		Input:    in,
		Output:   OutputConfig{Name: "probabilities", Labels: threeLabels},
	}
}

func openAnalyzer(t *testing.T, cfg Config) *Analyzer {
	t.Helper()
	a, err := Open(cfg, nil)
	require.NoError(t, err)
	return a
}

func analyze(t *testing.T, a *Analyzer, object []byte, contentType string) (*sdk.ImagingResult, error) {
	t.Helper()
	return a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(object), ContentType: contentType, Subject: "Patient/example"})
}

func issueOf(t *testing.T, err error) sdk.Issue {
	t.Helper()
	var outcome *sdk.Outcome
	require.ErrorAs(t, err, &outcome)
	require.NotEmpty(t, outcome.Issues)
	return outcome.Issues[0]
}

func TestInputTensorEncodings(t *testing.T) {
	red := solidPNG(t, 4, 4, color.RGBA{R: 255, A: 255})
	tests := []struct {
		name     string
		input    InputConfig
		spec     []int64
		datatype string
		check    func(t *testing.T, in kservetest.Tensor)
	}{
		{"fp32 nchw normalized", InputConfig{Name: "image", Encoding: EncodingFP32, Width: 8, Height: 8, Layout: "NCHW", Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.25, 0.25, 0.25}},
			[]int64{1, 3, 8, 8}, "FP32", func(t *testing.T, in kservetest.Tensor) {
				require.Len(t, in.Values, 192)
				assert.InDelta(t, 2.0, in.Values[0], 1e-6, "red plane: (1 - 0.5) / 0.25")
				assert.InDelta(t, 2.0, in.Values[63], 1e-6)
				assert.InDelta(t, -2.0, in.Values[64], 1e-6, "green plane: (0 - 0.5) / 0.25")
				assert.InDelta(t, -2.0, in.Values[191], 1e-6)
			}},
		{"fp32 nhwc default scale", InputConfig{Name: "image", Encoding: EncodingFP32, Width: 2, Height: 2},
			[]int64{1, 2, 2, 3}, "FP32", func(t *testing.T, in kservetest.Tensor) {
				assert.Equal(t, []float64{1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0}, in.Values)
			}},
		{"uint8 grayscale", InputConfig{Name: "image", Encoding: EncodingUint8, Width: 8, Height: 8, Channels: 1},
			[]int64{1, 8, 8, 1}, "UINT8", func(t *testing.T, in kservetest.Tensor) {
				require.Len(t, in.Values, 64)
				for _, v := range in.Values {
					assert.Equal(t, 76.0, v, "BT.601 luma of pure red")
				}
			}},
		{"uint8 without batch", InputConfig{Name: "image", Encoding: EncodingUint8, Width: 3, Height: 5, Batch: new(false)},
			[]int64{5, 3, 3}, "UINT8", func(t *testing.T, in kservetest.Tensor) {
				assert.Equal(t, []int64{5, 3, 3}, in.Shape)
				assert.Equal(t, 255.0, in.Values[0])
				assert.Equal(t, 0.0, in.Values[1])
			}},
		{"bytes", InputConfig{Name: "image_bytes"},
			[]int64{1}, "BYTES", func(t *testing.T, in kservetest.Tensor) {
				require.Len(t, in.Bytes, 1)
				assert.Equal(t, red, in.Bytes[0], "the encoded file reaches the server unchanged")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, classifier(tc.input.Name, tc.datatype, tc.spec))
			a := openAnalyzer(t, baseConfig(server, tc.input))
			require.NoError(t, a.CheckHealth(context.Background()), "the settings match the model metadata")

			result, err := analyze(t, a, red, "image/png")
			require.NoError(t, err)
			assert.Len(t, result.Observations, 3)

			inputs := server.LastInputs()
			require.Len(t, inputs, 1)
			assert.Equal(t, tc.datatype, inputs[0].Datatype)
			tc.check(t, inputs[0])
		})
	}
}

func TestJPEGResizedBilinear(t *testing.T) {
	server := startServer(t, classifier("image", "UINT8", []int64{1, 4, 8, 1}))
	a := openAnalyzer(t, baseConfig(server, InputConfig{Name: "image", Encoding: EncodingUint8, Width: 8, Height: 4, Channels: 1}))

	_, err := analyze(t, a, gradientJPEG(t, 64, 32), "image/jpeg")
	require.NoError(t, err)
	values := server.LastInputs()[0].Values
	require.Len(t, values, 32)
	for x := 1; x < 8; x++ {
		assert.Greater(t, values[x], values[x-1], "the gradient rises left to right after resizing")
	}
	assert.Less(t, values[0], 40.0)
	assert.Greater(t, values[7], 215.0)
}

// scriptedModel returns fixed scores, so the mapping to Observations can be
// checked exactly.
func scriptedModel(scores []float64, shape []int64) *kservetest.Model {
	m := classifier("image_bytes", "BYTES", []int64{1})
	m.Infer = func([]kservetest.Tensor) ([]kservetest.Tensor, error) {
		return []kservetest.Tensor{{Name: "probabilities", Datatype: "FP32", Shape: shape, Values: scores}}, nil
	}
	return m
}

type observationJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Status       string `json:"status"`
	Code         struct {
		Coding []Coding `json:"coding"`
	} `json:"code"`
	Subject struct {
		Reference string `json:"reference"`
	} `json:"subject"`
	ValueQuantity struct {
		Value  float64 `json:"value"`
		System string  `json:"system"`
		Code   string  `json:"code"`
	} `json:"valueQuantity"`
	Method struct {
		Text string `json:"text"`
	} `json:"method"`
}

type reportJSON struct {
	ResourceType string `json:"resourceType"`
	Status       string `json:"status"`
	Code         struct {
		Coding []Coding `json:"coding"`
	} `json:"code"`
	Subject struct {
		Reference string `json:"reference"`
	} `json:"subject"`
	Result []struct {
		Reference string `json:"reference"`
	} `json:"result"`
	Conclusion     string `json:"conclusion"`
	ConclusionCode []struct {
		Coding []Coding `json:"coding"`
	} `json:"conclusionCode"`
}

func TestOutputMapsToObservations(t *testing.T) {
	server := startServer(t, scriptedModel([]float64{2.0, 0.5, -1.0}, []int64{1, 3}))
	cfg := baseConfig(server, InputConfig{Name: "image_bytes"})
	cfg.Output.Activation = "softmax"
	cfg.Output.MinProbability = 0.1
	a := openAnalyzer(t, cfg)

	result, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
	require.NoError(t, err)

	sum := math.Exp(2.0) + math.Exp(0.5) + math.Exp(-1.0)
	want := []float64{math.Exp(2.0) / sum, math.Exp(0.5) / sum}
	require.Len(t, result.Observations, 2, "the third class is below min_probability")
	assert.Equal(t, "chest-xray", result.Model)
	assert.Equal(t, "2", result.ModelVersion)

	var report reportJSON
	require.NoError(t, json.Unmarshal(result.Report, &report))
	assert.Equal(t, "DiagnosticReport", report.ResourceType)
	assert.Equal(t, "preliminary", report.Status)
	assert.Equal(t, "18748-4", report.Code.Coding[0].Code)
	assert.Equal(t, "Patient/example", report.Subject.Reference)
	require.Len(t, report.Result, 2)
	assert.Contains(t, report.Conclusion, "Pneumonia")
	assert.Equal(t, "233604007", report.ConclusionCode[0].Coding[0].Code)

	for i, raw := range result.Observations {
		var obs observationJSON
		require.NoError(t, json.Unmarshal(raw, &obs))
		assert.Equal(t, "Observation", obs.ResourceType)
		assert.Equal(t, "urn:uuid:"+obs.ID, report.Result[i].Reference)
		assert.Equal(t, threeLabels[i], obs.Code.Coding[0])
		assert.InDelta(t, want[i], obs.ValueQuantity.Value, 1e-6)
		assert.Equal(t, "http://unitsofmeasure.org", obs.ValueQuantity.System)
		assert.Equal(t, "1", obs.ValueQuantity.Code)
		assert.Equal(t, "Patient/example", obs.Subject.Reference)
		assert.Equal(t, "chest-xray version 2", obs.Method.Text)
	}
}

func TestOutputOrderingAndTopK(t *testing.T) {
	server := startServer(t, scriptedModel([]float64{0.1, 0.7, 0.2}, []int64{3}))
	cfg := baseConfig(server, InputConfig{Name: "image_bytes"})
	cfg.Output.TopK = 2
	cfg.Report.Status = "final"
	cfg.Report.Code = &Coding{System: "http://loinc.org", Code: "36643-5", Display: "XR Chest 2 Views"}
	a := openAnalyzer(t, cfg)

	result, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
	require.NoError(t, err)
	require.Len(t, result.Observations, 2)
	var first, second observationJSON
	require.NoError(t, json.Unmarshal(result.Observations[0], &first))
	require.NoError(t, json.Unmarshal(result.Observations[1], &second))
	assert.Equal(t, "36118008", first.Code.Coding[0].Code, "most probable first")
	assert.InDelta(t, 0.7, first.ValueQuantity.Value, 1e-6)
	assert.Equal(t, "17621005", second.Code.Coding[0].Code)
	assert.Equal(t, "final", first.Status)

	var report reportJSON
	require.NoError(t, json.Unmarshal(result.Report, &report))
	assert.Equal(t, "36643-5", report.Code.Coding[0].Code)
	assert.Equal(t, "final", report.Status)
}

func TestNestedOutputData(t *testing.T) {
	server := startServer(t, classifier("image_bytes", "BYTES", []int64{1}))
	server.Fail("/v2/models/chest-xray/infer", kservetest.Failure{Status: http.StatusOK,
		Body: `{"model_name":"chest-xray","outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[[0.2,0.3,0.5]]}]}`})
	a := openAnalyzer(t, baseConfig(server, InputConfig{Name: "image_bytes"}))

	result, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
	require.NoError(t, err)
	var first observationJSON
	require.NoError(t, json.Unmarshal(result.Observations[0], &first))
	assert.Equal(t, "17621005", first.Code.Coding[0].Code)
	assert.InDelta(t, 0.5, first.ValueQuantity.Value, 1e-9)
}

func TestSigmoidActivation(t *testing.T) {
	assert.InDeltaSlice(t, []float64{0.5, 1 / (1 + math.Exp(-2))}, activate([]float64{0, 2}, "sigmoid"), 1e-12)
	assert.InDeltaSlice(t, []float64{0.5, 0.5}, activate([]float64{1000, 1000}, "softmax"), 1e-12, "softmax is stable for large logits")
}

func TestLabelCountMismatch(t *testing.T) {
	server := startServer(t, scriptedModel([]float64{0.5, 0.5}, []int64{1, 2}))
	a := openAnalyzer(t, baseConfig(server, InputConfig{Name: "image_bytes"}))

	_, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Equal(t, "/output/labels", issueOf(t, err).Path)
	assert.ErrorContains(t, err, "has 2 values")
}

func TestAnalyzeRejectsLocally(t *testing.T) {
	dicom, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "testdata", "fhir-r4-examples", "Patient-example.json"))
	require.NoError(t, err)
	tests := []struct {
		name     string
		object   []byte
		model    string
		maxBytes int64
		sentinel error
	}{
		{"not an image", dicom, "", 0, sdk.ErrInvalid},
		{"too large", solidPNG(t, 64, 64, color.White), "", 100, sdk.ErrTooLarge},
		{"empty", nil, "", 0, sdk.ErrInvalid},
		{"other model", solidPNG(t, 2, 2, color.White), "brain-ct", 0, sdk.ErrNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, classifier("image", "UINT8", []int64{1, 4, 4, 3}))
			cfg := baseConfig(server, InputConfig{Name: "image", Encoding: EncodingUint8, Width: 4, Height: 4})
			cfg.MaxImageBytes = tc.maxBytes
			a := openAnalyzer(t, cfg)

			_, err := a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(tc.object), ContentType: "image/png", Model: tc.model})
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Zero(t, server.Calls("/v2/models/chest-xray/infer"))
		})
	}
}

func TestContentTypeChecks(t *testing.T) {
	png := solidPNG(t, 2, 2, color.White)
	tests := []struct {
		name        string
		encoding    string
		contentType string
		sentinel    error
	}{
		{"text for bytes", EncodingBytes, "text/plain", sdk.ErrNotSupported},
		{"dicom for pixels", EncodingUint8, "application/dicom", sdk.ErrNotSupported},
		{"corrupt png for bytes", EncodingBytes, "image/png", sdk.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, classifier("image", "UINT8", []int64{1, 4, 4, 3}))
			cfg := baseConfig(server, InputConfig{Name: "image", Encoding: tc.encoding, Width: 4, Height: 4})
			a := openAnalyzer(t, cfg)
			object := png
			if tc.sentinel == sdk.ErrInvalid {
				object = []byte("not an image at all")
			}

			_, err := a.Analyze(context.Background(), sdk.ImagingRequest{Object: bytes.NewReader(object), ContentType: tc.contentType})
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Zero(t, server.Calls("/v2/models/chest-xray/infer"))
		})
	}
}

func TestDecompressionBombRejected(t *testing.T) {
	// A PNG header that declares 100000x100000 pixels.
	var header bytes.Buffer
	require.NoError(t, png.Encode(&header, image.NewGray(image.Rect(0, 0, 1, 1))))
	bomb := header.Bytes()
	bomb[16], bomb[17], bomb[18], bomb[19] = 0, 1, 0x86, 0xA0
	bomb[20], bomb[21], bomb[22], bomb[23] = 0, 1, 0x86, 0xA0
	binary.BigEndian.PutUint32(bomb[29:33], crc32.ChecksumIEEE(bomb[12:29]))

	_, err := decodeResized(bomb, "image/png", 4, 4, DefaultMaxImagePixels)
	assert.ErrorIs(t, err, sdk.ErrTooLarge)
}

func TestInferenceErrors(t *testing.T) {
	tests := []struct {
		name      string
		failure   *kservetest.Failure
		model     string
		sentinel  error
		wantCalls int
	}{
		{"503 not replayed", &kservetest.Failure{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}, Body: `{"error":"model is loading"}`}, "chest-xray", sdk.ErrUnavailable, 1},
		{"reset not replayed", &kservetest.Failure{Reset: true}, "chest-xray", sdk.ErrUnavailable, 1},
		{"unknown model", nil, "no-such-model", sdk.ErrNotFound, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, classifier("image_bytes", "BYTES", []int64{1}))
			if tc.failure != nil {
				server.Fail("/v2/models/chest-xray/infer", *tc.failure)
			}
			cfg := baseConfig(server, InputConfig{Name: "image_bytes"})
			cfg.Model = tc.model
			retries := 3
			cfg.MaxRetries = &retries
			a := openAnalyzer(t, cfg)

			_, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Equal(t, tc.wantCalls, server.Calls("/v2/models/chest-xray/infer"))
			assert.Equal(t, sdk.SourceUpstream, issueOf(t, err).Source)
		})
	}
}

func TestServerRejectsWrongTensor(t *testing.T) {
	server := startServer(t, classifier("image", "UINT8", []int64{1, 8, 8, 3}))
	a := openAnalyzer(t, baseConfig(server, InputConfig{Name: "image", Encoding: EncodingUint8, Width: 4, Height: 4}))

	_, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.ErrorContains(t, err, "unexpected shape for input 'image'")
}

func TestModelVersionRoute(t *testing.T) {
	server := startServer(t, classifier("image_bytes", "BYTES", []int64{1}))
	cfg := baseConfig(server, InputConfig{Name: "image_bytes"})
	cfg.ModelVersion = "1"
	a := openAnalyzer(t, cfg)

	require.NoError(t, a.CheckHealth(context.Background()))
	_, err := analyze(t, a, solidPNG(t, 2, 2, color.White), "image/png")
	require.NoError(t, err)
	assert.Equal(t, 1, server.Calls("/v2/models/chest-xray/versions/1/infer"))
	assert.Equal(t, 1, server.Calls("/v2/models/chest-xray/versions/1/ready"))
}

func TestCheckHealth(t *testing.T) {
	tests := []struct {
		name     string
		input    InputConfig
		output   string
		notReady bool
		sentinel error
		path     string
	}{
		{"server not ready", InputConfig{Name: "image", Encoding: EncodingUint8, Width: 4, Height: 4}, "", true, sdk.ErrUnavailable, ""},
		{"unknown input", InputConfig{Name: "pixels", Encoding: EncodingUint8, Width: 4, Height: 4}, "", false, sdk.ErrInvalid, "/input/name"},
		{"wrong datatype", InputConfig{Name: "image", Encoding: EncodingFP32, Width: 4, Height: 4}, "", false, sdk.ErrInvalid, "/input/encoding"},
		{"wrong shape", InputConfig{Name: "image", Encoding: EncodingUint8, Width: 8, Height: 4}, "", false, sdk.ErrInvalid, "/input"},
		{"unknown output", InputConfig{Name: "image", Encoding: EncodingUint8, Width: 4, Height: 4}, "logits", false, sdk.ErrInvalid, "/output/name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t, classifier("image", "UINT8", []int64{-1, 4, 4, 3}))
			server.SetReady(!tc.notReady)
			cfg := baseConfig(server, tc.input)
			cfg.Output.Name = tc.output
			zero := 0
			cfg.MaxRetries = &zero
			a := openAnalyzer(t, cfg)

			err := a.CheckHealth(context.Background())
			assert.ErrorIs(t, err, tc.sentinel)
			if tc.path != "" {
				assert.Equal(t, tc.path, issueOf(t, err).Path)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	valid := `"endpoint":"http://127.0.0.1:1","model":"m","output":{"labels":[{"code":"a"}]}`
	tests := []struct {
		name string
		raw  string
		path string
	}{
		{"missing endpoint", `{"model":"m"}`, "/endpoint"},
		{"missing model", `{"endpoint":"http://127.0.0.1:1"}`, "/model"},
		{"missing input name", `{` + valid + `}`, "/input/name"},
		{"bad encoding", `{` + valid + `,"input":{"name":"x","encoding":"png"}}`, "/input/encoding"},
		{"missing size", `{` + valid + `,"input":{"name":"x","encoding":"fp32"}}`, "/input/width"},
		{"bad channels", `{` + valid + `,"input":{"name":"x","encoding":"fp32","width":4,"height":4,"channels":4}}`, "/input/channels"},
		{"bad layout", `{` + valid + `,"input":{"name":"x","encoding":"fp32","width":4,"height":4,"layout":"CHW"}}`, "/input/layout"},
		{"mean count", `{` + valid + `,"input":{"name":"x","encoding":"fp32","width":4,"height":4,"mean":[0.5]}}`, "/input/mean"},
		{"zero std", `{` + valid + `,"input":{"name":"x","encoding":"fp32","width":4,"height":4,"std":[1,0,1]}}`, "/input/std/1"},
		{"no labels", `{"endpoint":"http://127.0.0.1:1","model":"m","input":{"name":"x"}}`, "/output/labels"},
		{"label without code", `{"endpoint":"http://127.0.0.1:1","model":"m","input":{"name":"x"},"output":{"labels":[{"code":"a"},{"display":"b"}]}}`, "/output/labels/1/code"},
		{"bad activation", `{` + valid[:len(valid)-1] + `,"activation":"relu"},"input":{"name":"x"}}`, "/output/activation"},
		{"bad status", `{` + valid + `,"input":{"name":"x"},"report":{"status":"draft"}}`, "/report/status"},
		{"type error", `{` + valid + `,"input":{"name":"x","width":"wide"}}`, "/input/width"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := New(nil).Configure(context.Background(), json.RawMessage(tc.raw))
			require.Error(t, err)
			assert.Equal(t, tc.path, issueOf(t, err).Path, err.Error())
		})
	}

	a := New(nil)
	require.NoError(t, a.Configure(context.Background(), json.RawMessage(`{`+valid+`,"input":{"name":"x"}}`)))
	assert.False(t, a.DataUse().Egress)
	remote := openAnalyzer(t, Config{Endpoint: "https://models.example.org", Model: "m", Input: InputConfig{Name: "x"}, Output: OutputConfig{Labels: threeLabels}})
	assert.Equal(t, []string{"models.example.org"}, remote.DataUse().Hosts)
	assert.True(t, strings.HasPrefix(remote.state.Load().modelPath, "v2/models/m"))
}
