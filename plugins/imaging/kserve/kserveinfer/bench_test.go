package kserveinfer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/healthhub/healthhub/plugins/internal/kservetest"
	"github.com/healthhub/healthhub/sdk"
)

// BenchmarkAnalyze sends a 512x512 JPEG through the plugin and, for the
// direct case, posts the request body the plugin built once with a bare
// net/http client. The fp32 case includes decoding, resizing to 224x224
// and normalizing, which a direct caller would also have to do.
func BenchmarkAnalyze(b *testing.B) {
	image := gradientJPEG(b, 512, 512)
	encodings := []struct {
		name  string
		input InputConfig
		spec  kservetest.TensorSpec
	}{
		{"bytes", InputConfig{Name: "image"}, kservetest.TensorSpec{Name: "image", Datatype: "BYTES", Shape: []int64{1}}},
		{"fp32-224", InputConfig{Name: "image", Encoding: EncodingFP32, Width: 224, Height: 224, Layout: "NCHW",
			Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}},
			kservetest.TensorSpec{Name: "image", Datatype: "FP32", Shape: []int64{1, 3, 224, 224}}},
	}
	for _, enc := range encodings {
		model := classifier(enc.spec.Name, enc.spec.Datatype, enc.spec.Shape)
		server := kservetest.New(model)
		b.Cleanup(server.Close)
		a, err := Open(baseConfig(server, enc.input), nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		req := func() sdk.ImagingRequest {
			return sdk.ImagingRequest{Object: bytes.NewReader(image), ContentType: "image/jpeg", Subject: "Patient/example"}
		}

		b.Run(enc.name+"/plugin", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Analyze(ctx, req()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(enc.name+"/direct", func(b *testing.B) {
			body, err := a.state.Load().inferBody(ctx, req())
			if err != nil {
				b.Fatal(err)
			}
			client := &http.Client{}
			b.ReportAllocs()
			for b.Loop() {
				directInfer(b, client, server.URL+"/v2/models/chest-xray/infer", body)
			}
		})
	}
}

func directInfer(b *testing.B, client *http.Client, url string, body []byte) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	var parsed inferResponse
	if err := json.NewDecoder(resp.Body).Decode(&parsed); err != nil || len(parsed.Outputs) == 0 {
		b.Fatalf("decode: %v", err)
	}
}
