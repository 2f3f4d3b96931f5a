package dicomreader

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// dicomDir is the project's DICOM test data.
var dicomDir = filepath.Join("..", "..", "..", "..", "testdata", "dicom")

func readTestFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dicomDir, name))
	require.NoError(t, err)
	return data
}

// rawElement is an element for the test encoder.
type rawElement struct {
	tag   tag.Tag
	vr    string
	value []byte
}

func text(t tag.Tag, vr, v string) rawElement {
	b := []byte(v)
	if len(b)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" {
			pad = 0
		}
		b = append(b, pad)
	}
	return rawElement{t, vr, b}
}

func us(t tag.Tag, v uint16) rawElement {
	return rawElement{t, "US", binary.LittleEndian.AppendUint16(nil, v)}
}

// encodeDataset encodes elements, which must be in tag order, in explicit
// or implicit VR little endian.
func encodeDataset(elements []rawElement, explicit bool) []byte {
	var out []byte
	for _, e := range elements {
		out = binary.LittleEndian.AppendUint16(out, e.tag.Group)
		out = binary.LittleEndian.AppendUint16(out, e.tag.Element)
		switch {
		case !explicit:
			out = binary.LittleEndian.AppendUint32(out, uint32(len(e.value)))
		case e.vr == "OB" || e.vr == "OW" || e.vr == "SQ" || e.vr == "UN" || e.vr == "UT":
			out = append(out, e.vr...)
			out = append(out, 0, 0)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(e.value)))
		default:
			out = append(out, e.vr...)
			out = binary.LittleEndian.AppendUint16(out, uint16(len(e.value)))
		}
		out = append(out, e.value...)
	}
	return out
}

// part10 wraps a data set in a preamble and File Meta Information.
func part10(dataset []byte, transferSyntax string) []byte {
	out := make([]byte, preambleSize)
	out = append(out, magic...)
	out = appendMeta(out, transferSyntax, "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4.5.6")
	return append(out, dataset...)
}

// imageSpec describes a synthetic monochrome image.
type imageSpec struct {
	rows, columns int
	photometric   string
	signed        bool
	slope         string // Rescale Slope; empty for none
	intercept     string
	windowCenter  string // empty for none
	windowWidth   string
	voiFunction   string
	padding       *int16
	pixels        []int16 // 16-bit stored values, row by row
	extra         []rawElement
}

// syntheticImage encodes a Secondary Capture image with the study
// attributes a de-identifier must handle, as a Part 10 file in explicit VR
// little endian.
func syntheticImage(spec imageSpec) []byte {
	pixelRepresentation := uint16(0)
	if spec.signed {
		pixelRepresentation = 1
	}
	pixels := make([]byte, 0, 2*len(spec.pixels))
	for _, p := range spec.pixels {
		pixels = binary.LittleEndian.AppendUint16(pixels, uint16(p))
	}

	elements := []rawElement{
		text(tag.SOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7"),
		text(tag.SOPInstanceUID, "UI", "1.2.3.4.5.6"),
		text(tag.StudyDate, "DA", "20240131"),
		text(tag.StudyTime, "TM", "101500"),
		text(tag.Modality, "CS", "OT"),
		text(tag.InstitutionName, "LO", "Canary Memorial Hospital"),
		text(tag.PatientName, "PN", "Canary^Zebulon"),
		text(tag.PatientID, "LO", "MRN-77713"),
		text(tag.PatientBirthDate, "DA", "19610704"),
		text(tag.StudyInstanceUID, "UI", "1.2.3.4"),
		text(tag.SeriesInstanceUID, "UI", "1.2.3.4.5"),
		text(tag.FrameOfReferenceUID, "UI", "1.2.3.4"),
		us(tag.SamplesPerPixel, 1),
		text(tag.PhotometricInterpretation, "CS", spec.photometric),
		us(tag.Rows, uint16(spec.rows)),
		us(tag.Columns, uint16(spec.columns)),
		us(tag.BitsAllocated, 16),
		us(tag.BitsStored, 16),
		us(tag.HighBit, 15),
		us(tag.PixelRepresentation, pixelRepresentation),
	}
	if spec.padding != nil {
		vr := "US"
		if spec.signed {
			vr = "SS"
		}
		elements = append(elements, rawElement{tag.PixelPaddingValue, vr, binary.LittleEndian.AppendUint16(nil, uint16(*spec.padding))})
	}
	if spec.windowCenter != "" {
		elements = append(elements, text(tag.WindowCenter, "DS", spec.windowCenter), text(tag.WindowWidth, "DS", spec.windowWidth))
	}
	if spec.intercept != "" {
		elements = append(elements, text(tag.RescaleIntercept, "DS", spec.intercept), text(tag.RescaleSlope, "DS", spec.slope))
	}
	if spec.voiFunction != "" {
		elements = append(elements, text(tag.VOILUTFunction, "CS", spec.voiFunction))
	}
	elements = append(elements, spec.extra...)
	elements = append(elements, rawElement{tag.PixelData, "OW", pixels})
	sortRaw(elements)
	return part10(encodeDataset(elements, true), "1.2.840.10008.1.2.1")
}

func sortRaw(elements []rawElement) {
	for i := 1; i < len(elements); i++ {
		for j := i; j > 0 && compareTags(elements[j].tag, elements[j-1].tag) < 0; j-- {
			elements[j], elements[j-1] = elements[j-1], elements[j]
		}
	}
}

// decodePNG decodes a preview and returns its gray values row by row.
func decodePNG(t testing.TB, data []byte) (image.Image, []uint8) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	b := img.Bounds()
	var gray []uint8
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, _, _ := img.At(x, y).RGBA()
			gray = append(gray, uint8(r>>8))
		}
	}
	return img, gray
}

// linearWindow is the LINEAR VOI function of PS3.3 C.11.2.1.2, written
// out independently of the package for checking it.
func linearWindow(x, c, w float64) uint8 {
	switch {
	case x <= c-0.5-(w-1)/2:
		return 0
	case x > c-0.5+(w-1)/2:
		return 255
	default:
		return uint8(math.Round(((x-(c-0.5))/(w-1) + 0.5) * 255))
	}
}

// parseWithLibrary parses data with the dicom library directly, with pixel
// processing on, as an independent reading of the file.
func parseWithLibrary(t testing.TB, data []byte) dicom.Dataset {
	t.Helper()
	ds, err := dicom.Parse(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	return ds
}

func libraryText(t testing.TB, ds dicom.Dataset, tg tag.Tag) string {
	t.Helper()
	e, err := ds.FindElementByTag(tg)
	require.NoError(t, err, "element %s", formatTag(tg))
	return elementTexts(e)[0]
}

// studyOf decodes the ImagingStudy of a ReadStudy result.
func studyOf(t testing.TB, study *sdk.Study) imagingStudy {
	t.Helper()
	var s imagingStudy
	require.NoError(t, json.Unmarshal(study.ImagingStudy, &s))
	return s
}

func readStudy(t testing.TB, r *Reader, data []byte, params map[string]string) (*sdk.Study, error) {
	t.Helper()
	return r.ReadStudy(context.Background(), sdk.ImagingRequest{
		Object:      bytes.NewReader(data),
		ContentType: "application/dicom",
		Subject:     "Patient/example",
		Parameters:  params,
	})
}
