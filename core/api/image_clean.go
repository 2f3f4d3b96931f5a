package api

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/healthhub/healthhub/sdk"
)

// maxImagePixels bounds the images decoded for re-encoding, so that a
// small file that declares a huge size cannot exhaust memory.
const maxImagePixels = 64 << 20

// reencodeImage decodes a PNG or JPEG image and encodes its pixels again.
// The new file carries none of the original's metadata: no PNG text
// chunks, no EXIF, XMP or comments, which may name the patient. JPEG is
// encoded at quality 95, so it loses a little detail.
func reencodeImage(r io.Reader, mediaType string) (io.Reader, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	config, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, sdk.Invalidf("", "de-identify image: cannot read it as %s: %v", mediaType, err)
	}
	if int64(config.Width)*int64(config.Height) > maxImagePixels {
		return nil, sdk.Errorf(sdk.CodeTooLong, "de-identify image: %d×%d pixels is more than %d", config.Width, config.Height, maxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, sdk.Invalidf("", "de-identify image: cannot decode it as %s: %v", mediaType, err)
	}
	var out bytes.Buffer
	if mediaType == "image/png" {
		err = png.Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}
