package sdktest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

// meanIntensityAnalyzer is the reference imaging provider of these tests.
// It decodes PNG images, reports their mean grey level as an Observation,
// renders a preview, and de-identifies by dropping the PNG text chunks,
// where scanners put patient details.
type meanIntensityAnalyzer struct{}

func readPNG(ctx context.Context, req sdk.ImagingRequest) ([]byte, image.Image, error) {
	if req.ContentType != "image/png" {
		return nil, nil, sdk.Invalidf("", "analyze: content type %q is not supported; send image/png", req.ContentType)
	}
	data, err := readAllContext(ctx, req.Object, 16<<20)
	if err != nil {
		return nil, nil, err
	}
	if len(data) == 0 {
		return nil, nil, sdk.Invalidf("", "analyze: the object is empty")
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, nil, sdk.Invalidf("", "analyze: the object is not a valid PNG: %v", err)
	}
	return data, img, nil
}

func (meanIntensityAnalyzer) Analyze(ctx context.Context, req sdk.ImagingRequest) (*sdk.ImagingResult, error) {
	_, img, err := readPNG(ctx, req)
	if err != nil {
		return nil, err
	}
	var sum float64
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			sum += float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
		}
	}
	mean := sum / float64(bounds.Dx()*bounds.Dy())

	observation, _ := json.Marshal(map[string]any{
		"resourceType":  "Observation",
		"id":            "mean-intensity",
		"status":        "final",
		"code":          map[string]any{"text": "mean grey level"},
		"valueQuantity": map[string]any{"value": mean, "unit": "level"},
	})
	report := map[string]any{
		"resourceType": "DiagnosticReport",
		"status":       "final",
		"code":         map[string]any{"text": "image intensity"},
		"result":       []any{map[string]any{"reference": "urn:uuid:mean-intensity"}},
	}
	if req.Subject != "" {
		report["subject"] = map[string]any{"reference": req.Subject}
	}
	reportJSON, _ := json.Marshal(report)
	return &sdk.ImagingResult{Report: reportJSON, Observations: []json.RawMessage{observation}, Model: "mean-intensity", ModelVersion: "1"}, nil
}

func (meanIntensityAnalyzer) ReadStudy(ctx context.Context, req sdk.ImagingRequest) (*sdk.Study, error) {
	_, img, err := readPNG(ctx, req)
	if err != nil {
		return nil, err
	}
	var preview bytes.Buffer
	if err := png.Encode(&preview, img); err != nil {
		return nil, err
	}
	study, _ := json.Marshal(map[string]any{"resourceType": "ImagingStudy", "status": "available", "numberOfInstances": 1})
	return &sdk.Study{ImagingStudy: study, Preview: preview.Bytes()}, nil
}

func (meanIntensityAnalyzer) Deidentify(ctx context.Context, req sdk.ImagingRequest, w io.Writer) (*sdk.DeidentifyResult, error) {
	data, _, err := readPNG(ctx, req)
	if err != nil {
		return nil, err
	}
	result := &sdk.DeidentifyResult{Profile: "png-text-chunks-removed"}
	if _, err := w.Write(data[:8]); err != nil {
		return nil, err
	}
	for rest := data[8:]; len(rest) >= 12; {
		length := int(binary.BigEndian.Uint32(rest))
		chunk := rest[:12+length]
		rest = rest[12+length:]
		if kind := string(chunk[4:8]); kind == "tEXt" || kind == "iTXt" || kind == "zTXt" {
			result.Actions = append(result.Actions, kind+": removed")
			continue
		}
		if _, err := w.Write(chunk); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// pngWithText returns a small gradient PNG with a tEXt chunk holding text.
func pngWithText(text string) []byte {
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 256)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	data := buf.Bytes()

	payload := []byte("Comment\x00" + text)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, payload...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	// Insert the chunk right after IHDR: signature (8) + IHDR (25 bytes).
	out := append(bytes.Clone(data[:33]), chunk...)
	return append(out, data[33:]...)
}

func imagingCase() sdktest.ImagingCase {
	return sdktest.ImagingCase{
		Object:      pngWithText("Patient: Canary Testpatient, born 1970-01-01"),
		ContentType: "image/png",
		Subject:     "Patient/123",
		PHI:         []string{"Canary Testpatient"},
	}
}

func TestImagingSuiteInProcess(t *testing.T) {
	sdktest.Imaging(t, func(*testing.T) sdk.ImageAnalyzer { return meanIntensityAnalyzer{} }, imagingCase())
}

func TestImagingSuiteLoopback(t *testing.T) {
	sdktest.Imaging(t, func(t *testing.T) sdk.ImageAnalyzer {
		remote := sdktest.Loopback(t, sdk.Provider{
			Info: sdk.Info{Name: "mean-intensity", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindImaging},
				Capabilities: []string{sdk.CapabilityStudy, sdk.CapabilityDeidentify}},
			ImageAnalyzer: meanIntensityAnalyzer{},
		})
		return remote.ImageAnalyzer
	}, imagingCase())
}

func TestImagingFixtureHoldsPHI(t *testing.T) {
	if !bytes.Contains(imagingCase().Object, []byte("Canary Testpatient")) {
		t.Fatal("the fixture image does not carry the PHI the Deidentify check looks for")
	}
	if _, err := png.Decode(bytes.NewReader(imagingCase().Object)); err != nil {
		t.Fatal(fmt.Errorf("the fixture image does not decode: %w", err))
	}
}
