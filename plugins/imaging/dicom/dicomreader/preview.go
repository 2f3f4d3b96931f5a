package dicomreader

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// Request parameters of ReadStudy.
const (
	// ParamWindowCenter and ParamWindowWidth set the VOI window of the
	// preview in modality units (Hounsfield units for CT), overriding the
	// window of the file. Both or neither must be given.
	ParamWindowCenter = "window_center"
	ParamWindowWidth  = "window_width"
)

// window is a VOI window (PS3.3 C.11.2.1.2) with its function.
type window struct {
	center, width float64
	// function is the VOI LUT Function (0028,1056): LINEAR,
	// LINEAR_EXACT or SIGMOID.
	function string
}

// previewWindow returns the window of the preview: from the request
// parameters, else the first window of the file, else the range of the
// frame's values.
func previewWindow(obj *object, f *frame, params map[string]string) (window, error) {
	w := window{function: strings.ToUpper(obj.text(tag.VOILUTFunction))}
	if w.function != "LINEAR_EXACT" && w.function != "SIGMOID" {
		w.function = "LINEAR"
	}

	center, hasCenter := params[ParamWindowCenter]
	width, hasWidth := params[ParamWindowWidth]
	if hasCenter || hasWidth {
		return requestWindow(w, center, width, hasCenter, hasWidth)
	}

	centers, widths := obj.decimals(tag.WindowCenter), obj.decimals(tag.WindowWidth)
	if len(centers) > 0 && len(widths) > 0 && widths[0] >= 1 {
		w.center, w.width = centers[0], widths[0]
		return w, nil
	}

	lo, hi, ok := f.valueRange()
	if !ok {
		lo, hi = 0, 1
	}
	w.center, w.width = (lo+hi)/2, max(hi-lo, 1)
	w.function = "LINEAR_EXACT"
	return w, nil
}

func requestWindow(w window, center, width string, hasCenter, hasWidth bool) (window, error) {
	if !hasCenter || !hasWidth {
		return w, sdk.Invalidf("/parameters", "read study: set both %s and %s, or neither to use the window of the file", ParamWindowCenter, ParamWindowWidth)
	}
	c, err := strconv.ParseFloat(center, 64)
	if err != nil || math.IsNaN(c) || math.IsInf(c, 0) {
		return w, sdk.Invalidf("/parameters/"+ParamWindowCenter, "read study: %s %q is not a number", ParamWindowCenter, center)
	}
	wd, err := strconv.ParseFloat(width, 64)
	if err != nil || math.IsNaN(wd) || math.IsInf(wd, 0) || wd < 1 {
		return w, sdk.Invalidf("/parameters/"+ParamWindowWidth, "read study: %s %q must be a number of at least 1", ParamWindowWidth, width)
	}
	w.center, w.width = c, wd
	return w, nil
}

// apply maps a modality value to an 8-bit display value with the window's
// function, as PS3.3 C.11.2.1.2 defines them.
func (w window) apply(x float64) uint8 {
	var y float64
	switch w.function {
	case "SIGMOID":
		y = 255 / (1 + math.Exp(-4*(x-w.center)/w.width))
	case "LINEAR_EXACT":
		y = ((x-w.center)/w.width + 0.5) * 255
	default:
		if w.width <= 1 {
			// LINEAR needs a width above 1; a width of 1 is a threshold.
			y = 0
			if x > w.center-0.5 {
				y = 255
			}
			break
		}
		y = ((x-(w.center-0.5))/(w.width-1) + 0.5) * 255
	}
	return uint8(math.Round(max(0, min(255, y))))
}

// renderPreview renders the first frame of the object as a PNG: monochrome
// frames through the window, with MONOCHROME1 inverted so that higher
// values show darker, and color frames as they are. It returns nil for an
// object without pixel data or with pixel data it cannot decode.
func renderPreview(obj *object, params map[string]string) ([]byte, error) {
	f, err := firstFrame(obj)
	if errors.Is(err, errNoPixels) || errors.Is(err, errPixelsUnsupported) {
		return nil, checkWindowParams(params)
	}
	if err != nil {
		return nil, err
	}

	img := f.rgb
	if img == nil {
		w, err := previewWindow(obj, f, params)
		if err != nil {
			return nil, err
		}
		img = grayImage(f, w, strings.EqualFold(obj.text(tag.PhotometricInterpretation), "MONOCHROME1"))
	}

	var out bytes.Buffer
	if err := pngEncoder.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// pngEncoder reuses its compression buffers across previews, which saves
// most of the memory a preview costs.
var pngEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &encoderPool{}}

// encoderPool is a png.EncoderBufferPool backed by a sync.Pool.
type encoderPool struct{ pool sync.Pool }

func (p *encoderPool) Get() *png.EncoderBuffer {
	if b, ok := p.pool.Get().(*png.EncoderBuffer); ok {
		return b
	}
	return nil
}

func (p *encoderPool) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// checkWindowParams validates window parameters that no frame will use, so
// a bad request is reported whether or not the object has a preview.
func checkWindowParams(params map[string]string) error {
	center, hasCenter := params[ParamWindowCenter]
	width, hasWidth := params[ParamWindowWidth]
	if !hasCenter && !hasWidth {
		return nil
	}
	_, err := requestWindow(window{}, center, width, hasCenter, hasWidth)
	return err
}

// grayImage applies the window to every pixel. Padding pixels are black.
func grayImage(f *frame, w window, invert bool) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, f.width, f.height))
	for i, v := range f.gray {
		if math.IsNaN(v) {
			continue
		}
		y := w.apply(v)
		if invert {
			y = 255 - y
		}
		img.Pix[i] = y
	}
	return img
}
