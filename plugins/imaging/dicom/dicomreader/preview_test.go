package dicomreader

import (
	"encoding/binary"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// libraryPixels returns the first frame's stored values as the library
// decodes them, interpreting 16-bit samples as signed when asked.
func libraryPixels(t *testing.T, data []byte, signed bool) []float64 {
	t.Helper()
	ds := parseWithLibrary(t, data)
	e, err := ds.FindElementByTag(tag.PixelData)
	require.NoError(t, err)
	native, err := dicom.MustGetPixelDataInfo(e.Value).Frames[0].GetNativeFrame()
	require.NoError(t, err)
	raw := native.RawDataSlice().([]uint16)
	out := make([]float64, len(raw))
	for i, v := range raw {
		if signed {
			out[i] = float64(int16(v))
		} else {
			out[i] = float64(v)
		}
	}
	return out
}

func TestPreviewWindowFromFile(t *testing.T) {
	// MR_small has Window Center 600 and Width 1600, no rescale, and
	// signed 16-bit pixels. Every preview pixel must be the LINEAR window
	// of the value the library decodes.
	for _, file := range []string{"MR_small.dcm", "MR_small_implicit.dcm"} {
		t.Run(file, func(t *testing.T) {
			data := readTestFile(t, file)
			result, err := readStudy(t, &Reader{}, data, nil)
			require.NoError(t, err)
			_, gray := decodePNG(t, result.Preview)

			values := libraryPixels(t, data, true)
			require.Len(t, gray, len(values))
			for i, v := range values {
				if want := linearWindow(v, 600, 1600); gray[i] != want {
					t.Fatalf("pixel %d: value %g shows as %d, want %d", i, v, gray[i], want)
				}
			}
		})
	}
}

func TestPreviewWindowFromRequest(t *testing.T) {
	// CT_small has no window; the request sets a bone window in HU. The
	// rescale intercept of -1024 turns stored values into HU first.
	data := readTestFile(t, "CT_small.dcm")
	result, err := readStudy(t, &Reader{}, data, map[string]string{ParamWindowCenter: "300", ParamWindowWidth: "1500"})
	require.NoError(t, err)
	_, gray := decodePNG(t, result.Preview)

	values := libraryPixels(t, data, true)
	require.Len(t, gray, len(values))
	for i, v := range values {
		want := linearWindow(v-1024, 300, 1500)
		if v == -2000 {
			want = 0 // Pixel Padding Value shows black.
		}
		if gray[i] != want {
			t.Fatalf("pixel %d: stored %g shows as %d, want %d", i, v, gray[i], want)
		}
	}
}

func TestPreviewWindowFromValueRange(t *testing.T) {
	// Without a window anywhere, the range of the values, padding
	// excluded, maps to 0..255.
	padding := int16(-2000)
	data := syntheticImage(imageSpec{
		rows: 2, columns: 3, photometric: "MONOCHROME2", signed: true, padding: &padding,
		pixels: []int16{-2000, 100, 150, 200, 250, 300},
	})
	result, err := readStudy(t, &Reader{}, data, nil)
	require.NoError(t, err)
	_, gray := decodePNG(t, result.Preview)
	assert.Equal(t, []uint8{0, 0, 64, 128, 191, 255}, gray)
}

func TestPreviewRescaleAndFunctions(t *testing.T) {
	// Stored 0, 100, 200, 300 with slope 2 and intercept -100 are modality
	// values -100, 100, 300, 500. The window is centre 200, width 400.
	pixels := []int16{0, 100, 200, 300}
	tests := []struct {
		name        string
		function    string
		photometric string
		want        func(x float64) float64
	}{
		{"linear", "", "MONOCHROME2", func(x float64) float64 {
			return float64(linearWindow(x, 200, 400))
		}},
		{"linear exact", "LINEAR_EXACT", "MONOCHROME2", func(x float64) float64 {
			return math.Round(max(0, min(255, ((x-200)/400+0.5)*255)))
		}},
		{"sigmoid", "SIGMOID", "MONOCHROME2", func(x float64) float64 {
			return math.Round(255 / (1 + math.Exp(-4*(x-200)/400)))
		}},
		{"monochrome1 inverts", "", "MONOCHROME1", func(x float64) float64 {
			return 255 - float64(linearWindow(x, 200, 400))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := syntheticImage(imageSpec{
				rows: 2, columns: 2, photometric: tc.photometric, pixels: pixels,
				slope: "2", intercept: "-100", windowCenter: "200", windowWidth: "400", voiFunction: tc.function,
			})
			result, err := readStudy(t, &Reader{}, data, nil)
			require.NoError(t, err)
			_, gray := decodePNG(t, result.Preview)
			require.Len(t, gray, 4)
			for i, stored := range pixels {
				assert.Equal(t, tc.want(float64(stored)*2-100), float64(gray[i]), "stored %d", stored)
			}
		})
	}
}

func TestPreviewRequestOverridesFile(t *testing.T) {
	data := readTestFile(t, "MR_small.dcm")
	fromFile, err := readStudy(t, &Reader{}, data, nil)
	require.NoError(t, err)
	narrow, err := readStudy(t, &Reader{}, data, map[string]string{ParamWindowCenter: "500", ParamWindowWidth: "200"})
	require.NoError(t, err)

	_, a := decodePNG(t, fromFile.Preview)
	_, b := decodePNG(t, narrow.Preview)
	values := libraryPixels(t, data, true)
	for i, v := range values {
		assert.Equal(t, linearWindow(v, 500, 200), b[i], "pixel %d", i)
	}
	assert.NotEqual(t, a, b)
}

func TestSampleReaderBitDepths(t *testing.T) {
	tests := []struct {
		name   string
		layout pixelLayout
		data   []byte
		want   []int
	}{
		{"8-bit unsigned", pixelLayout{bitsAllocated: 8, bitsStored: 8, highBit: 7}, []byte{0, 127, 255}, []int{0, 127, 255}},
		{"8-bit signed", pixelLayout{bitsAllocated: 8, bitsStored: 8, highBit: 7, signed: true}, []byte{0, 127, 255}, []int{0, 127, -1}},
		{"12 of 16 bits signed", pixelLayout{bitsAllocated: 16, bitsStored: 12, highBit: 11, signed: true}, []byte{0xFF, 0x0F, 0xFF, 0x07, 0x00, 0xF8}, []int{-1, 2047, -2048}},
		{"12 of 16 bits, high bits ignored", pixelLayout{bitsAllocated: 16, bitsStored: 12, highBit: 11}, []byte{0xFF, 0xFF}, []int{4095}},
		{"1-bit packed", pixelLayout{bitsAllocated: 1, bitsStored: 1, highBit: 0}, []byte{0b00000101}, []int{1, 0, 1, 0, 0, 0, 0, 0}},
		{"32-bit signed", pixelLayout{bitsAllocated: 32, bitsStored: 32, highBit: 31, signed: true}, []byte{0xFF, 0xFF, 0xFF, 0xFF}, []int{-1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			read := sampleReader(tc.data, tc.layout, binary.LittleEndian)
			for i, want := range tc.want {
				assert.Equal(t, want, read(i), "sample %d", i)
			}
		})
	}
}

func TestPreviewColor(t *testing.T) {
	// A 2x1 image, red then green, interleaved (RGBRGB) and planar
	// (RR GG BB).
	tests := []struct {
		name        string
		photometric string
		planar      uint16
		pixels      []byte
	}{
		{"rgb interleaved", "RGB", 0, []byte{255, 0, 0, 0, 255, 0}},
		{"rgb planar", "RGB", 1, []byte{255, 0, 0, 255, 0, 0}},
		// Full-range YCbCr of pure red and pure green (ITU-R BT.601).
		{"ybr full", "YBR_FULL", 0, []byte{76, 85, 255, 150, 44, 21}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			elements := []rawElement{
				text(tag.SOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7"),
				text(tag.SOPInstanceUID, "UI", "1.2.3.5"),
				text(tag.StudyInstanceUID, "UI", "1.2.3"),
				text(tag.SeriesInstanceUID, "UI", "1.2.3.4"),
				us(tag.SamplesPerPixel, 3),
				text(tag.PhotometricInterpretation, "CS", tc.photometric),
				us(tag.PlanarConfiguration, tc.planar),
				us(tag.Rows, 1), us(tag.Columns, 2),
				us(tag.BitsAllocated, 8), us(tag.BitsStored, 8), us(tag.HighBit, 7), us(tag.PixelRepresentation, 0),
				{tag.PixelData, "OB", tc.pixels},
			}
			result, err := readStudy(t, &Reader{}, part10(encodeDataset(elements, true), "1.2.840.10008.1.2.1"), nil)
			require.NoError(t, err)
			img, _ := decodePNG(t, result.Preview)

			r0, g0, b0, _ := img.At(0, 0).RGBA()
			r1, g1, b1, _ := img.At(1, 0).RGBA()
			assert.InDeltaSlice(t, []float64{255, 0, 0}, []float64{float64(r0 >> 8), float64(g0 >> 8), float64(b0 >> 8)}, 2, "first pixel is red")
			assert.InDeltaSlice(t, []float64{0, 255, 0}, []float64{float64(r1 >> 8), float64(g1 >> 8), float64(b1 >> 8)}, 2, "second pixel is green")
		})
	}
}

func TestPreviewShortPixelData(t *testing.T) {
	data := syntheticImage(imageSpec{rows: 4, columns: 4, photometric: "MONOCHROME2", pixels: []int16{1, 2, 3}})
	_, err := readStudy(t, &Reader{}, data, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds 6 bytes but one 4x4 frame")
}

func TestWindowApplyThreshold(t *testing.T) {
	w := window{center: 100, width: 1, function: "LINEAR"}
	for _, tc := range []struct {
		x    float64
		want uint8
	}{{99, 0}, {99.5, 0}, {99.6, 255}, {100, 255}} {
		assert.Equal(t, tc.want, w.apply(tc.x), strconv.FormatFloat(tc.x, 'g', -1, 64))
	}
}
