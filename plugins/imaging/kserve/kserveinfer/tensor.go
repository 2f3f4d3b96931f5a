package kserveinfer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for image.Decode
	_ "image/png"  // registers the PNG decoder for image.Decode
	"mime"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/healthhub/healthhub/sdk"
)

// tensor is an input tensor ready to be written into the request body.
type tensor struct {
	name     string
	datatype string
	shape    []int
	// Exactly one of the value slices is set, by datatype.
	bytesValue []byte
	uint8s     []uint8
	float32s   []float32
}

// buildTensor turns the image into the configured input tensor.
func buildTensor(in InputConfig, data []byte, contentType string, maxPixels int) (*tensor, error) {
	t := &tensor{name: in.Name}
	if in.encoding() == EncodingBytes {
		if !strings.HasPrefix(contentType, "application/dicom") {
			if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
				return nil, sdk.Invalidf("", "analyze: object of type %q is not a valid image: %v", contentType, err)
			}
		}
		t.datatype, t.shape, t.bytesValue = "BYTES", []int{1}, data
		return t, nil
	}

	pixels, err := decodeResized(data, contentType, in.Width, in.Height, maxPixels)
	if err != nil {
		return nil, err
	}
	t.shape = in.shape()
	if in.encoding() == EncodingUint8 {
		t.datatype, t.uint8s = "UINT8", channelValues(pixels, in)
		return t, nil
	}
	t.datatype, t.float32s = "FP32", normalize(channelValues(pixels, in), in)
	return t, nil
}

// shape returns the tensor shape for the configured size, layout and batch.
func (in InputConfig) shape() []int {
	shape := []int{in.Height, in.Width, in.channels()}
	if in.Layout == "NCHW" {
		shape = []int{in.channels(), in.Height, in.Width}
	}
	if in.batch() {
		shape = append([]int{1}, shape...)
	}
	return shape
}

// checkContentType rejects objects the configured encoding cannot send.
// Pixel encodings decode PNG and JPEG; the bytes encoding also passes
// DICOM through to models that read it.
func checkContentType(encoding, contentType string) error {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "image/png", "image/jpeg":
		return nil
	case "application/dicom":
		if encoding == EncodingBytes {
			return nil
		}
		return sdk.Errorf(sdk.CodeNotSupported, "analyze: encoding %q needs a PNG or JPEG image; use input encoding \"bytes\" for models that read DICOM", encoding)
	}
	return sdk.Errorf(sdk.CodeNotSupported, "analyze: content type %q is not supported; send image/png, image/jpeg or, with input encoding \"bytes\", application/dicom", contentType)
}

// decodeResized decodes a PNG or JPEG image and scales it to width by
// height with bilinear interpolation.
func decodeResized(data []byte, contentType string, width, height, maxPixels int) (*image.RGBA, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, sdk.Invalidf("", "analyze: object of type %q is not a valid PNG or JPEG image: %v", contentType, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil, sdk.Errorf(sdk.CodeTooLong, "analyze: %s image is %dx%d pixels; the limit is %d pixels", format, cfg.Width, cfg.Height, maxPixels)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, sdk.Invalidf("", "analyze: decode %s image: %v", format, err)
	}

	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst, nil
}

// channelValues lays out the pixels in the configured channel count and
// layout. Grayscale is ITU-R BT.601 luma, as image/color's GrayModel
// computes it.
func channelValues(pixels *image.RGBA, in InputConfig) []uint8 {
	width, height, channels := in.Width, in.Height, in.channels()
	plane := width * height
	values := make([]uint8, plane*channels)
	nchw := in.Layout == "NCHW"

	for y := range height {
		row := pixels.Pix[y*pixels.Stride:]
		for x := range width {
			p := row[x*4 : x*4+3]
			pixel := y*width + x
			if channels == 1 {
				values[pixel] = luma(p[0], p[1], p[2])
				continue
			}
			for c := range 3 {
				if nchw {
					values[c*plane+pixel] = p[c]
				} else {
					values[pixel*3+c] = p[c]
				}
			}
		}
	}
	return values
}

func luma(r, g, b uint8) uint8 {
	y := (19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16
	return uint8(y)
}

// normalize converts channel values to (v*scale - mean[c]) / std[c].
func normalize(values []uint8, in InputConfig) []float32 {
	channels := in.channels()
	plane := in.Width * in.Height
	scale := in.scale()
	out := make([]float32, len(values))
	for i, v := range values {
		c := i % channels
		if in.Layout == "NCHW" {
			c = i / plane
		}
		f := float64(v) * scale
		if len(in.Mean) > 0 {
			f -= in.Mean[c]
		}
		if len(in.Std) > 0 {
			f /= in.Std[c]
		}
		out[i] = float32(f)
	}
	return out
}

// writeJSON writes the tensor as a v2 request input object. Numbers are
// formatted directly, because encoding/json's reflection is several times
// slower on the 150,528 values of a 224x224 RGB image.
func (t *tensor) writeJSON(buf *bytes.Buffer) {
	name, _ := json.Marshal(t.name)
	buf.WriteString(`{"name":`)
	buf.Write(name)
	buf.WriteString(`,"datatype":"`)
	buf.WriteString(t.datatype)
	buf.WriteString(`","shape":[`)
	for i, dim := range t.shape {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.Itoa(dim))
	}
	buf.WriteString(`],"data":[`)
	t.writeData(buf)
	buf.WriteString(`]}`)
}

func (t *tensor) writeData(buf *bytes.Buffer) {
	scratch := make([]byte, 0, 32)
	switch {
	case t.bytesValue != nil:
		buf.WriteByte('"')
		encoder := base64.NewEncoder(base64.StdEncoding, buf)
		encoder.Write(t.bytesValue)
		encoder.Close()
		buf.WriteByte('"')
	case t.uint8s != nil:
		for i, v := range t.uint8s {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(strconv.AppendUint(scratch[:0], uint64(v), 10))
		}
	default:
		for i, v := range t.float32s {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(strconv.AppendFloat(scratch[:0], float64(v), 'g', -1, 32))
		}
	}
}

// elements returns the number of values in the tensor.
func (t *tensor) elements() int {
	switch {
	case t.bytesValue != nil:
		return 1
	case t.uint8s != nil:
		return len(t.uint8s)
	}
	return len(t.float32s)
}

func (t *tensor) String() string {
	return fmt.Sprintf("%s %s%v", t.name, t.datatype, t.shape)
}
