package dicomreader

// Framing check of a DICOM object before it reaches the parser.
//
// The parser of github.com/suyashkumar/dicom v1.1.0 allocates a value's
// buffer from the declared length before reading it, asserts item types
// inside sequences, and stops silently at an end of file between elements.
// A truncated or corrupt file could therefore exhaust memory, panic, or
// parse short without an error. The scanner walks the element framing the
// way that parser does (tags, VRs, lengths, sequences, items and
// encapsulated fragments) and checks every length against the bytes that
// remain, so the parser only ever gets objects whose framing is sound.
//
// The scanner also settles the transfer syntax. A Part 10 file states it in
// its File Meta Information. A bare data set (no preamble, no "DICM", no
// File Meta, as some archives and older tools write) does not, and the
// parser would guess it by trial reads, which can pick explicit big endian
// for explicit little-endian data. The scanner decides between implicit and
// explicit little endian from the first element's VR bytes, and
// normalizeObject prepends File Meta that states the result.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"

	"github.com/healthhub/healthhub/sdk"
)

const (
	preambleSize = 128
	magic        = "DICM"
	// undefinedLength is the value length of sequences, items and
	// encapsulated pixel data that end with a delimitation item.
	undefinedLength = 0xFFFFFFFF
	// maxDepth bounds the nesting of sequences. Real objects nest a few
	// levels; the bound keeps a crafted file from exhausting the stack.
	maxDepth = 64
	// maxElements bounds the elements, items and fragments of an object.
	// The parser holds each in memory with about 200 bytes of overhead,
	// so a file of tiny elements would cost far more memory than its
	// size. Large structure sets and reports have some 100 000.
	maxElements = 1 << 20
)

// syntax is a transfer syntax as the scanner and the parser need it.
type syntax struct {
	UID      string
	order    binary.ByteOrder
	implicit bool
}

// syntaxFor returns the encoding of a transfer syntax UID. Deflated and
// unknown syntaxes are rejected with ErrNotSupported.
func syntaxFor(transferSyntax string) (syntax, error) {
	if transferSyntax == uid.DeflatedExplicitVRLittleEndian {
		return syntax{}, sdk.Errorf(sdk.CodeNotSupported, "read dicom: the deflated transfer syntax %s is not supported; send the object uncompressed (explicit VR little endian)", transferSyntax)
	}
	order, implicit, err := uid.ParseTransferSyntaxUID(transferSyntax)
	if err != nil {
		return syntax{}, sdk.Errorf(sdk.CodeNotSupported, "read dicom: transfer syntax %q is not a known transfer syntax UID; send the object in explicit VR little endian (1.2.840.10008.1.2.1)", transferSyntax)
	}
	return syntax{UID: transferSyntax, order: order, implicit: implicit}, nil
}

// truncated returns the invalid-input outcome for data that ends early.
func truncated(format string, args ...any) error {
	return sdk.Invalidf("", "read dicom: the object is truncated: "+format+"; send the complete file", args...)
}

func malformed(format string, args ...any) error {
	return sdk.Invalidf("", "read dicom: the object is malformed: "+format, args...)
}

// elementHeader is the framing of one element.
type elementHeader struct {
	tag    tag.Tag
	vr     string
	length uint32
	offset int // of the tag
	size   int // of the header: tag, VR and length
}

func (h elementHeader) String() string {
	return fmt.Sprintf("element %s at offset %d", h.tag, h.offset)
}

// scanner walks the framing of a data set encoded in one transfer syntax.
type scanner struct {
	data   []byte
	syntax syntax
	// topLevel collects the string values of the top-level elements the
	// normalisation needs, by tag.
	topLevel map[tag.Tag]string
	// elements counts the headers read so far.
	elements int
}

// wanted lists the top-level values the scanner keeps.
var wanted = map[tag.Tag]bool{tag.SOPClassUID: true, tag.SOPInstanceUID: true}

func newScanner(data []byte, s syntax) *scanner {
	return &scanner{data: data, syntax: s, topLevel: map[tag.Tag]string{}}
}

// header reads the element header at pos, which must end by end.
func (s *scanner) header(pos, end int) (elementHeader, error) {
	h := elementHeader{offset: pos}
	s.elements++
	if s.elements > maxElements {
		return h, sdk.Errorf(sdk.CodeTooLong, "read dicom: the object has more than %d elements, items and fragments", maxElements)
	}
	if end-pos < 8 {
		return h, truncated("%d bytes remain at offset %d where an element header of at least 8 bytes is expected", end-pos, pos)
	}
	order := s.syntax.order
	h.tag = tag.Tag{Group: order.Uint16(s.data[pos:]), Element: order.Uint16(s.data[pos+2:])}

	// Items and delimiters always have a 4-byte length and no VR.
	if h.tag.Group == 0xFFFE || s.syntax.implicit {
		h.length = order.Uint32(s.data[pos+4:])
		h.vr = implicitVR(h.tag)
		h.size = 8
		return h, nil
	}

	h.vr = string(s.data[pos+4 : pos+6])
	switch h.vr {
	case "OB", "OD", "OF", "OL", "OW", "SQ", "UN", "UC", "UR", "UT":
		if end-pos < 12 {
			return h, truncated("%d bytes remain at offset %d where a 12-byte %s element header is expected", end-pos, pos, h.vr)
		}
		h.length = order.Uint32(s.data[pos+8:])
		h.size = 12
	case "OV", "SV", "UV":
		return h, sdk.Errorf(sdk.CodeNotSupported, "read dicom: %s has VR %s (64-bit values), which the parser does not read", h, h.vr)
	default:
		h.length = uint32(order.Uint16(s.data[pos+6:]))
		// The parser reads a short length of FFFFH as undefined.
		if h.length == 0xFFFF {
			h.length = undefinedLength
		}
		h.size = 8
	}
	return h, nil
}

// implicitVR returns the VR the parser assumes for a tag in an implicit VR
// data set: OW for pixel and overlay data, the dictionary's first VR, or
// UN for a tag it does not know.
func implicitVR(t tag.Tag) string {
	if t == tag.PixelData || t == tag.OverlayData {
		return "OW"
	}
	if info, err := tag.Find(t); err == nil {
		return info.VRs[0]
	}
	return "UN"
}

// dataset walks the elements in data[pos:end] and returns the offset after
// them. Inside an item of undefined length (untilDelimiter), it stops after
// the item delimitation item.
func (s *scanner) dataset(pos, end, depth int, untilDelimiter bool) (int, error) {
	if depth > maxDepth {
		return 0, malformed("sequences nest deeper than %d levels at offset %d", maxDepth, pos)
	}
	var previous *tag.Tag
	for pos < end {
		h, err := s.header(pos, end)
		if err != nil {
			return 0, err
		}
		if untilDelimiter && h.tag == tag.ItemDelimitationItem {
			return s.delimiter(h, end)
		}
		if h.tag.Group == 0xFFFE {
			return 0, malformed("unexpected %s outside a sequence", h)
		}
		// Elements are in ascending tag order (PS3.5 section 7.1). At the
		// top level, a tag out of order is most often data appended after
		// the data set, such as padding with zeros.
		if depth == 0 && previous != nil && compareTags(h.tag, *previous) <= 0 {
			return 0, malformed("%s does not follow %s in ascending tag order; the bytes from offset %d on are not part of the data set", h, *previous, h.offset)
		}
		previous = &h.tag
		if pos, err = s.value(h, end, depth); err != nil {
			return 0, err
		}
	}
	if untilDelimiter {
		return 0, truncated("an item of undefined length has no item delimitation item before offset %d", end)
	}
	return pos, nil
}

// value walks the value of the element with header h and returns the
// offset after it.
func (s *scanner) value(h elementHeader, end, depth int) (int, error) {
	pos := h.offset + h.size
	kind := tag.GetVRKind(h.tag, h.vr)

	if h.length == undefinedLength {
		switch {
		case kind == tag.VRPixelData || kind == tag.VRBytes:
			return s.fragments(h, pos, end, kind == tag.VRPixelData)
		case kind == tag.VRSequence || kind == tag.VRUnknown:
			return s.sequence(h, pos, end, depth)
		default:
			return 0, malformed("%s has an undefined length but VR %q; only SQ, UN, OB, OW and pixel data may", h, h.vr)
		}
	}

	if int64(h.length) > int64(end-pos) {
		return 0, truncated("%s declares a %d-byte value but only %d bytes remain", h, h.length, end-pos)
	}
	valueEnd := pos + int(h.length)
	if kind == tag.VRSequence {
		if _, err := s.sequence(h, pos, valueEnd, depth); err != nil {
			return 0, err
		}
	}
	if depth == 0 && wanted[h.tag] {
		s.topLevel[h.tag] = strings.TrimRight(string(s.data[pos:valueEnd]), "\x00 ")
	}
	return valueEnd, nil
}

// sequence walks the items of a sequence. With an undefined length it stops
// after the sequence delimitation item, otherwise at end.
func (s *scanner) sequence(seq elementHeader, pos, end, depth int) (int, error) {
	undefined := seq.length == undefinedLength
	for pos < end {
		h, err := s.header(pos, end)
		if err != nil {
			return 0, err
		}
		if undefined && h.tag == tag.SequenceDelimitationItem {
			return s.delimiter(h, end)
		}
		if h.tag != tag.Item {
			return 0, malformed("%s inside the sequence %s is not an item", h, seq.tag)
		}

		itemStart := pos + h.size
		if h.length == undefinedLength {
			pos, err = s.dataset(itemStart, end, depth+1, true)
		} else if int64(h.length) > int64(end-itemStart) {
			err = truncated("item at offset %d in the sequence %s declares %d bytes but only %d remain", pos, seq.tag, h.length, end-itemStart)
		} else {
			pos, err = s.dataset(itemStart, itemStart+int(h.length), depth+1, false)
		}
		if err != nil {
			return 0, err
		}
	}
	if undefined {
		return 0, truncated("the sequence %s has no sequence delimitation item before offset %d", seq.tag, end)
	}
	return pos, nil
}

// fragments walks the items of encapsulated pixel data, or of an OB or OW
// value of undefined length, up to the sequence delimitation item. Pixel
// data starts with the basic offset table item, which the parser skips
// without checking its tag, so that item must be there.
func (s *scanner) fragments(owner elementHeader, pos, end int, offsetTable bool) (int, error) {
	for first := true; pos < end; first = false {
		h, err := s.header(pos, end)
		if err != nil {
			return 0, err
		}
		if h.tag == tag.SequenceDelimitationItem && !(first && offsetTable) {
			return s.delimiter(h, end)
		}
		if h.tag != tag.Item || h.length == undefinedLength {
			return 0, malformed("%s inside the encapsulated value of %s is not a fragment item of defined length", h, owner.tag)
		}
		if int64(h.length) > int64(end-pos-h.size) {
			return 0, truncated("fragment at offset %d of %s declares %d bytes but only %d remain", pos, owner.tag, h.length, end-pos-h.size)
		}
		pos += h.size + int(h.length)
	}
	return 0, truncated("the encapsulated value of %s has no sequence delimitation item", owner.tag)
}

// delimiter checks a delimitation item, whose length must be zero, and
// returns the offset after it.
func (s *scanner) delimiter(h elementHeader, end int) (int, error) {
	if h.length != 0 {
		return 0, malformed("%s is a delimitation item with length %d; it must be 0", h, h.length)
	}
	return h.offset + 8, nil
}

// looksExplicit reports whether the element at pos carries a VR: two
// uppercase letters after the tag.
func looksExplicit(data []byte, pos int) bool {
	if len(data)-pos < 6 {
		return false
	}
	vr := data[pos+4 : pos+6]
	return vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z'
}

// hasPreamble reports whether data starts with the 128-byte preamble and
// the "DICM" prefix of a Part 10 file.
func hasPreamble(data []byte) bool {
	return len(data) >= preambleSize+len(magic) && bytes.Equal(data[preambleSize:preambleSize+len(magic)], []byte(magic))
}
