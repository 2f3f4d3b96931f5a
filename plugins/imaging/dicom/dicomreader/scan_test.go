package dicomreader

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/healthhub/healthhub/sdk"
)

func TestTruncatedFilesAreInvalid(t *testing.T) {
	// Every prefix of every test file either parses (a cut between two
	// top-level elements leaves a shorter valid object) or is rejected
	// with ErrInvalid. None panics or fails otherwise.
	for _, file := range []string{"CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "ExplVR_LitEndNoMeta.dcm"} {
		t.Run(file, func(t *testing.T) {
			data := readTestFile(t, file)
			rejected := 0
			for n := 0; n < len(data); n += max(1, len(data)/2000) {
				_, err := parseObject(data[:n])
				if err == nil {
					continue
				}
				rejected++
				if !errors.Is(err, sdk.ErrInvalid) {
					t.Fatalf("prefix of %d bytes: %v, want an ErrInvalid outcome", n, err)
				}
			}
			assert.Positive(t, rejected)
		})
	}
}

func TestTruncatedMessages(t *testing.T) {
	ct := readTestFile(t, "CT_small.dcm")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"inside the pixel data", ct[:20000], "element (7fe0,0010) at offset"},
		{"inside an element header", ct[:139], "where an element header of at least 8 bytes is expected"},
		{"short bare data set", []byte{0x08, 0x00}, "a DICOM data set starts with an element"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseObject(tc.data)
			require.Error(t, err)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestScannerRejectsMalformedFraming(t *testing.T) {
	undefinedSequence := func(content []byte) rawElement {
		return rawElement{tag.ReferencedImageSequence, "SQ", content}
	}
	item := func(length uint32, body []byte) []byte {
		out := []byte{0xFE, 0xFF, 0x00, 0xE0}
		out = binary.LittleEndian.AppendUint32(out, length)
		return append(out, body...)
	}

	tests := []struct {
		name     string
		elements []rawElement
		patch    func([]byte) []byte
		want     string
	}{
		{"element inside a sequence is not an item", []rawElement{
			undefinedSequence(encodeDataset([]rawElement{text(tag.Modality, "CS", "CT")}, true)),
		}, nil, "is not an item"},
		{"item longer than its sequence", []rawElement{
			undefinedSequence(item(100, nil)),
		}, nil, "declares 100 bytes"},
		{"undefined sequence without delimiter", nil, func(b []byte) []byte {
			out := append(b, 0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF)
			return append(out, item(0, nil)...)
		}, "no sequence delimitation item"},
		{"delimiter with a length", nil, func(b []byte) []byte {
			out := append(b, 0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF)
			return append(out, 0xFE, 0xFF, 0xDD, 0xE0, 4, 0, 0, 0)
		}, "must be 0"},
		{"undefined length on a string", nil, func(b []byte) []byte {
			return append(b, 0x08, 0x00, 0x60, 0x00, 'C', 'S', 0xFF, 0xFF)
		}, "undefined length but VR \"CS\""},
		{"item outside a sequence", nil, func(b []byte) []byte {
			return append(b, item(0, nil)...)
		}, "outside a sequence"},
		{"64-bit VR", nil, func(b []byte) []byte {
			return append(b, 0x08, 0x00, 0x60, 0x00, 'S', 'V', 0, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8)
		}, "VR SV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := []rawElement{text(tag.SOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7")}
			data := encodeDataset(append(base, tc.elements...), true)
			if tc.patch != nil {
				data = tc.patch(data)
			}
			_, err := parseObject(part10(data, "1.2.840.10008.1.2.1"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestScannerNestingLimit(t *testing.T) {
	// Sequences nested deeper than maxDepth are rejected before they can
	// exhaust the stack.
	body := []byte{}
	for range maxDepth + 2 {
		inner := []byte{0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}
		inner = append(inner, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF)
		inner = append(inner, body...)
		inner = append(inner, 0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0)
		inner = append(inner, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
		body = inner
	}
	_, err := parseObject(part10(body, "1.2.840.10008.1.2.1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nest deeper than 64 levels")
}

func TestSyntaxRejectsDeflate(t *testing.T) {
	data := part10(encodeDataset([]rawElement{text(tag.Modality, "CS", "CT")}, true), "1.2.840.10008.1.2.1.99")
	_, err := parseObject(data)
	assert.ErrorIs(t, err, sdk.ErrNotSupported)
	assert.Contains(t, err.Error(), "deflated")

	data = part10(encodeDataset([]rawElement{text(tag.Modality, "CS", "CT")}, true), "1.2.3.4.5")
	_, err = parseObject(data)
	assert.ErrorIs(t, err, sdk.ErrNotSupported)
}

func TestMetaGroupLengthMismatch(t *testing.T) {
	data := readTestFile(t, "MR_small.dcm")
	broken := append([]byte(nil), data...)
	// (0002,0000) UL is the first meta element; its value sits at 140.
	binary.LittleEndian.PutUint32(broken[140:], 10)
	_, err := parseObject(broken)
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Contains(t, err.Error(), "File Meta group length")
}

func TestScannerRejectsDataAfterDataset(t *testing.T) {
	// Zeros appended to a file read as elements (0000,0000), which break
	// the ascending tag order.
	data := append(readTestFile(t, "MR_small.dcm"), make([]byte, 4096)...)
	_, err := parseObject(data)
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Contains(t, err.Error(), "does not follow (fffc,fffc) in ascending tag order; the bytes from offset 9830 on")
}

func TestScannerElementLimit(t *testing.T) {
	// An item of undefined length full of empty elements in ascending order.
	var body []byte
	body = append(body, 0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF)
	body = append(body, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF)
	for i := range maxElements {
		body = binary.LittleEndian.AppendUint16(body, 0x0009+uint16(2*(i>>16)))
		body = binary.LittleEndian.AppendUint16(body, uint16(i))
		body = append(body, 'L', 'O', 0, 0)
	}
	_, err := parseObject(part10(body, "1.2.840.10008.1.2.1"))
	require.Error(t, err)
	assert.ErrorIs(t, err, sdk.ErrTooLarge)
}
