package dicomreader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// jpegBaseline is the transfer syntax of JPEG Baseline (Process 1), the one
// encapsulated syntax image/jpeg decodes.
const jpegBaseline = "1.2.840.10008.1.2.4.50"

// maxJPEGPixels bounds the JPEG frames decoded for a preview, because the
// decoder allocates the whole image before reading the compressed data.
// Larger frames get no preview.
const maxJPEGPixels = 1 << 26

// errNoPixels is returned when the object has no pixel data, and
// errPixelsUnsupported when its pixel data is in an encoding this package
// does not decode. Both mean "no preview"; neither is a bad object.
var (
	errNoPixels          = errors.New("the object has no pixel data")
	errPixelsUnsupported = errors.New("the pixel data encoding is not supported")
)

// pixelLayout holds the Image Pixel module attributes of an object.
type pixelLayout struct {
	rows, columns, samples             int
	bitsAllocated, bitsStored, highBit int
	signed                             bool
	photometric                        string
	planar                             bool
}

// frame is the first frame of an object. A monochrome frame has gray set:
// its modality values (stored values with the rescale applied), with NaN
// for padding pixels. A color frame has rgb set instead.
type frame struct {
	width, height int
	gray          []float64
	rgb           image.Image
}

// readPixelLayout reads and checks the Image Pixel module.
func readPixelLayout(obj *object) (pixelLayout, error) {
	value := func(t tag.Tag, fallback int) int {
		if v, ok := obj.integer(t); ok {
			return v
		}
		return fallback
	}
	l := pixelLayout{
		rows:          value(tag.Rows, 0),
		columns:       value(tag.Columns, 0),
		samples:       value(tag.SamplesPerPixel, 1),
		bitsAllocated: value(tag.BitsAllocated, 0),
		signed:        value(tag.PixelRepresentation, 0) == 1,
		photometric:   strings.ToUpper(obj.text(tag.PhotometricInterpretation)),
		planar:        value(tag.PlanarConfiguration, 0) == 1,
	}
	l.bitsStored = value(tag.BitsStored, l.bitsAllocated)
	l.highBit = value(tag.HighBit, l.bitsStored-1)

	switch {
	case l.rows <= 0 || l.columns <= 0:
		return l, sdk.Invalidf("", "read dicom: the object has pixel data but Rows (0028,0010) is %d and Columns (0028,0011) is %d", l.rows, l.columns)
	case l.samples != 1 && l.samples != 3:
		return l, sdk.Invalidf("", "read dicom: Samples per Pixel (0028,0002) is %d; it must be 1 or 3", l.samples)
	case l.bitsAllocated != 1 && l.bitsAllocated != 8 && l.bitsAllocated != 16 && l.bitsAllocated != 32:
		return l, sdk.Invalidf("", "read dicom: Bits Allocated (0028,0100) is %d; native pixel data uses 1, 8, 16 or 32", l.bitsAllocated)
	case l.bitsStored < 1 || l.bitsStored > l.bitsAllocated || l.highBit < l.bitsStored-1 || l.highBit >= l.bitsAllocated:
		return l, sdk.Invalidf("", "read dicom: Bits Stored (0028,0101) %d and High Bit (0028,0102) %d do not fit in Bits Allocated %d", l.bitsStored, l.highBit, l.bitsAllocated)
	}
	return l, nil
}

// firstFrame decodes the first frame of the object's pixel data.
func firstFrame(obj *object) (*frame, error) {
	e := obj.element(tag.PixelData)
	if e == nil || e.Value == nil || e.Value.ValueType() != dicom.PixelData {
		return nil, errNoPixels
	}
	info := e.Value.GetValue().(dicom.PixelDataInfo)
	layout, err := readPixelLayout(obj)
	if err != nil {
		return nil, err
	}

	switch {
	case info.IsEncapsulated:
		if obj.syntax.UID != jpegBaseline {
			return nil, errPixelsUnsupported
		}
		return decodeJPEGFrame(obj, info, layout)
	case info.IntentionallyUnprocessed:
		return decodeNativeFrame(obj, info.UnprocessedValueData, layout)
	default:
		return nil, errNoPixels
	}
}

// decodeNativeFrame decodes the first frame of uncompressed pixel data.
func decodeNativeFrame(obj *object, data []byte, l pixelLayout) (*frame, error) {
	pixels := l.rows * l.columns
	need := (pixels*l.samples*l.bitsAllocated + 7) / 8
	if len(data) < need {
		return nil, sdk.Invalidf("", "read dicom: Pixel Data (7FE0,0010) holds %d bytes but one %dx%d frame of %d samples at %d bits needs %d", len(data), l.columns, l.rows, l.samples, l.bitsAllocated, need)
	}
	read := sampleReader(data, l, obj.syntax.order)

	if l.samples == 3 {
		return colorFrame(read, l)
	}
	switch l.photometric {
	case "MONOCHROME1", "MONOCHROME2", "":
	default:
		return nil, errPixelsUnsupported
	}

	slope := obj.decimal(tag.RescaleSlope, 1)
	intercept := obj.decimal(tag.RescaleIntercept, 0)
	padding, hasPadding := obj.integer(tag.PixelPaddingValue)
	gray := make([]float64, pixels)
	for i := range gray {
		stored := read(i)
		if hasPadding && stored == padding {
			gray[i] = math.NaN()
			continue
		}
		gray[i] = float64(stored)*slope + intercept
	}
	return &frame{width: l.columns, height: l.rows, gray: gray}, nil
}

// sampleReader returns a function that reads sample i of the first frame as
// a stored value: masked to Bits Stored below High Bit and sign-extended
// when Pixel Representation is signed.
func sampleReader(data []byte, l pixelLayout, order binary.ByteOrder) func(i int) int {
	shift := l.highBit + 1 - l.bitsStored
	mask := uint64(1)<<l.bitsStored - 1
	signBit := uint64(1) << (l.bitsStored - 1)

	raw := func(i int) uint64 {
		switch l.bitsAllocated {
		case 1:
			// Bit-packed samples, the first in the least significant bit.
			return uint64(data[i/8]>>(i%8)) & 1
		case 8:
			return uint64(data[i])
		case 16:
			return uint64(order.Uint16(data[2*i:]))
		default:
			return uint64(order.Uint32(data[4*i:]))
		}
	}
	return func(i int) int {
		v := (raw(i) >> shift) & mask
		if l.signed && v&signBit != 0 {
			return int(int64(v) - int64(mask) - 1)
		}
		return int(v)
	}
}

// colorFrame builds an RGB image from three samples per pixel, either
// interleaved (RGBRGB...) or planar (RRR...GGG...BBB...).
func colorFrame(read func(int) int, l pixelLayout) (*frame, error) {
	if l.bitsAllocated != 8 {
		return nil, errPixelsUnsupported
	}
	pixels := l.rows * l.columns
	sample := func(p, s int) uint8 {
		if l.planar {
			return uint8(read(s*pixels + p))
		}
		return uint8(read(3*p + s))
	}

	img := image.NewRGBA(image.Rect(0, 0, l.columns, l.rows))
	for p := range pixels {
		a, b, c := sample(p, 0), sample(p, 1), sample(p, 2)
		switch l.photometric {
		case "RGB":
		case "YBR_FULL":
			a, b, c = color.YCbCrToRGB(a, b, c)
		default:
			return nil, errPixelsUnsupported
		}
		img.SetRGBA(p%l.columns, p/l.columns, color.RGBA{R: a, G: b, B: c, A: 255})
	}
	return &frame{width: l.columns, height: l.rows, rgb: img}, nil
}

// decodeJPEGFrame decodes a JPEG Baseline frame. A single-frame object's
// fragments are concatenated, since one frame may span several; a
// multi-frame object's first fragment is taken as its first frame.
func decodeJPEGFrame(obj *object, info dicom.PixelDataInfo, l pixelLayout) (*frame, error) {
	if len(info.Frames) == 0 {
		return nil, errNoPixels
	}
	var data []byte
	if frames, _ := obj.integer(tag.NumberOfFrames); frames > 1 {
		data = info.Frames[0].EncapsulatedData.Data
	} else {
		for _, f := range info.Frames {
			data = append(data, f.EncapsulatedData.Data...)
		}
	}
	// The header is checked first: a few bytes of JPEG can claim an image
	// of gigabytes.
	config, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, sdk.Invalidf("", "read dicom: the JPEG Baseline pixel data does not decode: %v", err)
	}
	if config.Width != l.columns || config.Height != l.rows {
		return nil, sdk.Invalidf("", "read dicom: the JPEG frame is %dx%d but Columns and Rows say %dx%d", config.Width, config.Height, l.columns, l.rows)
	}
	if config.Width*config.Height > maxJPEGPixels {
		return nil, errPixelsUnsupported
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, sdk.Invalidf("", "read dicom: the JPEG Baseline pixel data does not decode: %v", err)
	}
	bounds := img.Bounds()

	g, ok := img.(*image.Gray)
	if !ok {
		return &frame{width: l.columns, height: l.rows, rgb: img}, nil
	}
	slope := obj.decimal(tag.RescaleSlope, 1)
	intercept := obj.decimal(tag.RescaleIntercept, 0)
	gray := make([]float64, l.rows*l.columns)
	for y := range l.rows {
		for x := range l.columns {
			gray[y*l.columns+x] = float64(g.GrayAt(bounds.Min.X+x, bounds.Min.Y+y).Y)*slope + intercept
		}
	}
	return &frame{width: l.columns, height: l.rows, gray: gray}, nil
}

// valueRange returns the smallest and largest modality values of a gray
// frame, padding excluded, and false when every pixel is padding.
func (f *frame) valueRange() (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range f.gray {
		if math.IsNaN(v) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, !math.IsInf(lo, 1)
}
