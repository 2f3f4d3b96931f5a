package dicomreader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

// object is a parsed DICOM object.
type object struct {
	// dataset holds the File Meta elements, then the data set elements.
	dataset dicom.Dataset
	syntax  syntax
}

// readObject reads at most maxBytes from r and parses them. Objects over the
// limit are rejected with ErrTooLarge, bad ones with ErrInvalid, and
// encodings the parser cannot read with ErrNotSupported. Reading stops
// with ctx's error when ctx ends.
func readObject(ctx context.Context, r io.Reader, maxBytes int64) (*object, error) {
	if r == nil {
		return nil, sdk.Invalidf("", "read dicom: the request has no object; send a DICOM Part 10 file")
	}
	data, err := io.ReadAll(io.LimitReader(contextReader{ctx: ctx, r: r}, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read dicom: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, sdk.Errorf(sdk.CodeTooLong, "read dicom: the object is larger than max_object_bytes (%d bytes); raise the limit or send a smaller object", maxBytes)
	}
	return parseObject(data)
}

// contextReader reads from r until ctx ends, so that a slow upload stops
// when the request is cancelled.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// parseObject checks the framing of data, then parses it.
func parseObject(data []byte) (*object, error) {
	normalized, s, err := normalizeObject(data)
	if err != nil {
		return nil, err
	}
	ds, err := parseDataset(normalized)
	if err != nil {
		return nil, err
	}
	return &object{dataset: ds, syntax: s}, nil
}

// parseDataset runs the parser on a normalized object. Pixel data is kept
// as raw bytes: the preview decodes the first frame itself, and
// de-identification writes the bytes back unchanged.
func parseDataset(data []byte) (ds dicom.Dataset, err error) {
	// The framing check leaves the parser little to fail on, but it still
	// asserts value types it expects (a Specific Character Set that is not
	// a string, for one) and panics when they differ.
	defer func() {
		if r := recover(); r != nil {
			err = malformed("the parser failed: %v", r)
		}
	}()

	parser, err := dicom.NewParser(bytes.NewReader(data), int64(len(data)), nil,
		dicom.SkipProcessingPixelDataValue(),
		dicom.AllowUnknownSpecificCharacterSet(),
		dicom.AllowMissingMetaElementGroupLength())
	if err != nil {
		return dicom.Dataset{}, malformed("%v", err)
	}
	elements := append([]*dicom.Element(nil), parser.GetMetadata().Elements...)
	for {
		element, err := parser.Next()
		if errors.Is(err, dicom.ErrorEndOfDICOM) {
			return dicom.Dataset{Elements: elements}, nil
		}
		if err != nil {
			return dicom.Dataset{}, malformed("%v", err)
		}
		elements = append(elements, element)
	}
}

// element returns the top-level element with tag t, or nil.
func (o *object) element(t tag.Tag) *dicom.Element {
	for _, e := range o.dataset.Elements {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

// texts returns the values of a string element, trimmed, or nil when the
// element is absent or not a string.
func (o *object) texts(t tag.Tag) []string {
	return elementTexts(o.element(t))
}

func elementTexts(e *dicom.Element) []string {
	if e == nil || e.Value == nil || e.Value.ValueType() != dicom.Strings {
		return nil
	}
	values := e.Value.GetValue().([]string)
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, strings.TrimSpace(strings.Trim(v, "\x00")))
	}
	return out
}

// text returns the first value of a string element, or "".
func (o *object) text(t tag.Tag) string {
	if values := o.texts(t); len(values) > 0 {
		return values[0]
	}
	return ""
}

// integer returns the first value of a binary integer element (US, SS, UL,
// SL) or an integer string (IS).
func (o *object) integer(t tag.Tag) (int, bool) {
	e := o.element(t)
	if e == nil || e.Value == nil {
		return 0, false
	}
	switch e.Value.ValueType() {
	case dicom.Ints:
		if values := e.Value.GetValue().([]int); len(values) > 0 {
			return values[0], true
		}
	case dicom.Strings:
		if n, err := strconv.Atoi(o.text(t)); err == nil {
			return n, true
		}
	}
	return 0, false
}

// decimals returns the values of a decimal string (DS) or a binary float
// element (FL, FD). Values that do not parse are skipped.
func (o *object) decimals(t tag.Tag) []float64 {
	e := o.element(t)
	if e == nil || e.Value == nil {
		return nil
	}
	switch e.Value.ValueType() {
	case dicom.Floats:
		return e.Value.GetValue().([]float64)
	case dicom.Strings:
		var out []float64
		for _, v := range o.texts(t) {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				out = append(out, f)
			}
		}
		return out
	}
	return nil
}

// decimal returns the first value of decimals, or fallback.
func (o *object) decimal(t tag.Tag, fallback float64) float64 {
	if values := o.decimals(t); len(values) > 0 {
		return values[0]
	}
	return fallback
}

// requiredUID returns a UID attribute that the output cannot do without,
// or an invalid-input outcome naming it.
func (o *object) requiredUID(t tag.Tag, keyword string) (string, error) {
	v := o.text(t)
	if v == "" {
		return "", sdk.Invalidf("", "read dicom: %s %s is missing or empty; the object is not a valid composite instance", keyword, formatTag(t))
	}
	return v, nil
}

// formatTag formats a tag as "(GGGG,EEEE)".
func formatTag(t tag.Tag) string {
	return fmt.Sprintf("(%04X,%04X)", t.Group, t.Element)
}
