package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/plugins/imaging/kserve/kserveinfer"
	"github.com/healthhub/healthhub/plugins/internal/kservetest"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

const pluginName = "imaging-kserve"

// checkerboard encodes an 8x8 black and white checkerboard PNG.
func checkerboard(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			if (x+y)%2 == 0 {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// startServer serves a two-class model that takes 32x32 grayscale UINT8
// pixels.
func startServer(t *testing.T) *kservetest.Server {
	t.Helper()
	server := kservetest.New(&kservetest.Model{
		Name:     "chest-xray",
		Versions: []string{"3"},
		Inputs:   []kservetest.TensorSpec{{Name: "image", Datatype: "UINT8", Shape: []int64{-1, 32, 32, 1}}},
		Outputs:  []kservetest.TensorSpec{{Name: "scores", Datatype: "FP32", Shape: []int64{1, 2}}},
	})
	t.Cleanup(server.Close)
	return server
}

func pluginConfig(server *kservetest.Server) kserveinfer.Config {
	return kserveinfer.Config{
		Endpoint: server.URL,
		Model:    "chest-xray",
		Input:    kserveinfer.InputConfig{Name: "image", Encoding: kserveinfer.EncodingUint8, Width: 32, Height: 32, Channels: 1},
		Output: kserveinfer.OutputConfig{Name: "scores", Labels: []kserveinfer.Coding{
			{System: "http://snomed.info/sct", Code: "17621005", Display: "Normal"},
			{System: "http://snomed.info/sct", Code: "263654008", Display: "Abnormal"},
		}},
	}
}

func conformanceCase(t *testing.T) sdktest.ImagingCase {
	return sdktest.ImagingCase{Object: checkerboard(t), ContentType: "image/png", Subject: "Patient/example"}
}

func openAnalyzer(t *testing.T) *kserveinfer.Analyzer {
	t.Helper()
	a, err := kserveinfer.Open(pluginConfig(startServer(t)), nil)
	require.NoError(t, err)
	return a
}

// TestConformance runs the imaging suite against the analyzer in process.
func TestConformance(t *testing.T) {
	a := openAnalyzer(t)
	sdktest.Imaging(t, func(*testing.T) sdk.ImageAnalyzer { return a }, conformanceCase(t))
}

// TestConformanceOverWire runs the imaging suite through the plugin wire
// protocol inside the test process.
func TestConformanceOverWire(t *testing.T) {
	remote := sdktest.Loopback(t, sdk.Provider{Info: kserveinfer.Info(), ImageAnalyzer: openAnalyzer(t)})
	sdktest.Imaging(t, func(*testing.T) sdk.ImageAnalyzer { return remote.ImageAnalyzer }, conformanceCase(t))
}

// TestPluginBinary runs the imaging suite against the plugin as a
// subprocess of the hub's plugin host, with the loopback model server as
// upstream.
func TestPluginBinary(t *testing.T) {
	server := startServer(t)
	dir := t.TempDir()
	_, err := plugintest.Build("plugins/imaging/kserve", dir)
	require.NoError(t, err)
	config, err := json.Marshal(pluginConfig(server))
	require.NoError(t, err)
	host := plugin.New(plugin.Config{Dir: dir, Plugins: map[string]json.RawMessage{pluginName: config}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer host.Close()
	require.NoError(t, host.Start(context.Background()))
	provider, err := host.Provider(pluginName)
	require.NoError(t, err)

	require.NoError(t, host.CheckHealth(context.Background(), pluginName), "the settings match the model metadata")
	assert.False(t, host.Statuses()[0].DataUse.Egress, "a loopback endpoint is declared without egress")

	sdktest.Imaging(t, func(*testing.T) sdk.ImageAnalyzer { return provider.ImageAnalyzer }, conformanceCase(t))
	inputs := server.LastInputs()
	require.Len(t, inputs, 1)
	assert.Equal(t, []int64{1, 32, 32, 1}, inputs[0].Shape)
}
