package dicomreader

import (
	"encoding/binary"

	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"

	"github.com/healthhub/healthhub/sdk"
)

// implementationClassUID identifies HealthHub as the writer of the File Meta
// Information it creates. It is a UUID-derived UID (root 2.25, PS3.5 B.2).
const implementationClassUID = "2.25.290585234283801849356179243710921532202"

// explicitLittle is the syntax of File Meta Information.
var explicitLittle = syntax{UID: uid.ExplicitVRLittleEndian, order: binary.LittleEndian}

// metaInfo holds the File Meta Information values that normalizeObject
// needs.
type metaInfo struct {
	transferSyntax string
	// end is the offset of the first data set element.
	end int
}

// readMeta walks the group 0002 elements that start at pos. It checks each
// length and that the group length, when present, matches the elements.
func readMeta(data []byte, pos int) (metaInfo, error) {
	s := newScanner(data, explicitLittle)
	var info metaInfo
	groupEnd := -1
	for pos < len(data) {
		if len(data)-pos < 2 || binary.LittleEndian.Uint16(data[pos:]) != 0x0002 {
			break
		}
		h, err := s.header(pos, len(data))
		if err != nil {
			return info, err
		}
		if h.length == undefinedLength || int64(h.length) > int64(len(data)-pos-h.size) {
			return info, truncated("File Meta %s declares %d bytes but only %d remain", h, h.length, len(data)-pos-h.size)
		}
		value := data[pos+h.size : pos+h.size+int(h.length)]
		pos += h.size + int(h.length)

		switch h.tag {
		case tag.FileMetaInformationGroupLength:
			if len(value) != 4 {
				return info, malformed("the File Meta group length is %d bytes long; it must be 4", len(value))
			}
			groupEnd = pos + int(binary.LittleEndian.Uint32(value))
		case tag.TransferSyntaxUID:
			info.transferSyntax = trimValue(value)
		}
	}
	if groupEnd >= 0 && groupEnd != pos {
		return info, malformed("the File Meta group length ends the group at offset %d but its elements end at %d", groupEnd, pos)
	}
	info.end = pos
	return info, nil
}

// trimValue returns a string value without its padding.
func trimValue(value []byte) string {
	end := len(value)
	for end > 0 && (value[end-1] == 0 || value[end-1] == ' ') {
		end--
	}
	return string(value[:end])
}

// normalizeObject checks the framing of a DICOM object and returns it as a
// Part 10 file whose File Meta Information states the transfer syntax,
// with that syntax. A Part 10 file that states its syntax comes back
// unchanged. File Meta without a preamble gets one. A bare data set, or
// File Meta without a transfer syntax, gets new File Meta with the syntax
// the data set is encoded in.
func normalizeObject(data []byte) ([]byte, syntax, error) {
	start := 0
	var meta metaInfo
	switch {
	case hasPreamble(data):
		m, err := readMeta(data, preambleSize+len(magic))
		if err != nil {
			return nil, syntax{}, err
		}
		meta, start = m, m.end
	case len(data) >= 4 && binary.LittleEndian.Uint16(data) == 0x0002:
		m, err := readMeta(data, 0)
		if err != nil {
			return nil, syntax{}, err
		}
		meta, start = m, m.end
	}

	if meta.transferSyntax != "" {
		s, err := syntaxFor(meta.transferSyntax)
		if err != nil {
			return nil, syntax{}, err
		}
		if _, err := newScanner(data, s).dataset(start, len(data), 0, false); err != nil {
			return nil, syntax{}, err
		}
		if hasPreamble(data) {
			return data, s, nil
		}
		return append(make([]byte, preambleSize, preambleSize+len(magic)+len(data)), append([]byte(magic), data...)...), s, nil
	}

	s, scan, err := inferSyntax(data, start)
	if err != nil {
		return nil, syntax{}, err
	}
	out := make([]byte, preambleSize, preambleSize+256+len(data)-start)
	out = append(out, magic...)
	out = appendMeta(out, s.UID, scan.topLevel[tag.SOPClassUID], scan.topLevel[tag.SOPInstanceUID])
	return append(out, data[start:]...), s, nil
}

// inferSyntax decides between explicit and implicit VR little endian for
// the data set at start: the one the first element's bytes suggest, or the
// other when that one does not scan.
func inferSyntax(data []byte, start int) (syntax, *scanner, error) {
	if len(data)-start < 8 {
		return syntax{}, nil, sdk.Invalidf("", "read dicom: the object has %d bytes of data set; a DICOM data set starts with an element of at least 8 bytes", len(data)-start)
	}
	implicit := syntax{UID: uid.ImplicitVRLittleEndian, order: binary.LittleEndian, implicit: true}
	candidates := []syntax{implicit, explicitLittle}
	if looksExplicit(data, start) {
		candidates[0], candidates[1] = explicitLittle, implicit
	}

	var firstErr error
	for _, candidate := range candidates {
		scan := newScanner(data, candidate)
		_, err := scan.dataset(start, len(data), 0, false)
		if err == nil {
			return candidate, scan, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return syntax{}, nil, firstErr
}

// appendMeta appends File Meta Information for a data set in the given
// transfer syntax: group length, version, SOP class and instance when
// known, transfer syntax and implementation class.
func appendMeta(out []byte, transferSyntax, sopClass, sopInstance string) []byte {
	var group []byte
	group = appendExplicitLE(group, tag.FileMetaInformationVersion, "OB", []byte{0, 1})
	if sopClass != "" {
		group = appendExplicitLE(group, tag.MediaStorageSOPClassUID, "UI", []byte(sopClass))
	}
	if sopInstance != "" {
		group = appendExplicitLE(group, tag.MediaStorageSOPInstanceUID, "UI", []byte(sopInstance))
	}
	group = appendExplicitLE(group, tag.TransferSyntaxUID, "UI", []byte(transferSyntax))
	group = appendExplicitLE(group, tag.ImplementationClassUID, "UI", []byte(implementationClassUID))

	length := binary.LittleEndian.AppendUint32(nil, uint32(len(group)))
	out = appendExplicitLE(out, tag.FileMetaInformationGroupLength, "UL", length)
	return append(out, group...)
}

// appendExplicitLE appends one explicit VR little-endian element, padding
// an odd value with NUL (UI, OB) as PS3.5 section 6.2 requires.
func appendExplicitLE(out []byte, t tag.Tag, vr string, value []byte) []byte {
	if len(value)%2 == 1 {
		value = append(value[:len(value):len(value)], 0)
	}
	out = binary.LittleEndian.AppendUint16(out, t.Group)
	out = binary.LittleEndian.AppendUint16(out, t.Element)
	out = append(out, vr...)
	if vr == "OB" {
		out = append(out, 0, 0)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(value)))
	} else {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(value)))
	}
	return append(out, value...)
}
