package fsstore

// Object file format.
//
// Plaintext object:
//
//	content | trailer | trailer length (uint32, big endian) | "HHO1"
//
// Encrypted object:
//
//	"HHE1" | salt (32 bytes) | content segments | sealed trailer |
//	sealed trailer length (uint32, big endian) | "HHE1"
//
// The trailer is JSON (see trailer). In an encrypted object, the key of each
// object is HKDF-SHA256(master key, salt, "healthhub storage-fs object v1").
// Content is split into segments of 64 KiB of plaintext, each sealed with
// AES-256-GCM under the nonce counter(11 bytes, big endian) | flag, where
// flag is 0 for a segment that more segments follow, 1 for the last segment
// and 2 for the trailer. An empty object has one empty last segment. The
// additional data of every seal is the object key, so an encrypted file
// moved to another key does not decrypt. Because the last segment is
// flagged, a truncated object fails to decrypt instead of reading short.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	magicPlain     = "HHO1"
	magicEncrypted = "HHE1"
	footerSize     = 8
	saltSize       = 32
	headerSize     = len(magicEncrypted) + saltSize
	segmentSize    = 64 << 10
	// maxTrailerSize bounds the trailer read from disk, so a corrupt
	// length cannot make Get allocate without limit.
	maxTrailerSize = 1 << 20

	flagMore    = 0
	flagLast    = 1
	flagTrailer = 2
)

// errCorrupt is wrapped by every error about an object file that does not
// follow the format or fails authentication.
var errCorrupt = errors.New("object file is corrupt")

// trailer is the metadata stored after an object's content.
type trailer struct {
	ContentType string            `json:"content_type"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Size        int64             `json:"size"`
	SHA256      string            `json:"sha256"`
	ModTime     time.Time         `json:"mod_time"`
}

// objectAEAD derives the AES-256-GCM cipher of one object.
func objectAEAD(masterKey, salt []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, masterKey, salt, "healthhub storage-fs object v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func segmentNonce(counter uint64, flag byte) []byte {
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce[3:11], counter)
	nonce[11] = flag
	return nonce
}

func additionalData(key string) []byte {
	return []byte("healthhub storage-fs v1\x00" + key)
}

// segmentWriter seals content into segments. It holds back one full segment
// until more content arrives or the writer is closed, so that the last
// segment can be flagged.
type segmentWriter struct {
	w       io.Writer
	aead    cipher.AEAD
	ad      []byte
	buf     []byte
	sealed  []byte
	counter uint64
}

func newSegmentWriter(w io.Writer, aead cipher.AEAD, ad []byte) *segmentWriter {
	return &segmentWriter{
		w:      w,
		aead:   aead,
		ad:     ad,
		buf:    make([]byte, 0, segmentSize),
		sealed: make([]byte, 0, segmentSize+aead.Overhead()),
	}
}

func (s *segmentWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if len(s.buf) == segmentSize {
			// More content follows the full buffer, so it is not the last.
			if err := s.seal(flagMore); err != nil {
				return written, err
			}
		}
		n := copy(s.buf[len(s.buf):segmentSize], p)
		s.buf = s.buf[:len(s.buf)+n]
		p = p[n:]
		written += n
	}
	return written, nil
}

// Close seals the held-back content as the last segment.
func (s *segmentWriter) Close() error {
	return s.seal(flagLast)
}

func (s *segmentWriter) seal(flag byte) error {
	s.sealed = s.aead.Seal(s.sealed[:0], segmentNonce(s.counter, flag), s.buf, s.ad)
	s.counter++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.sealed)
	return err
}

// segmentReader opens the segments of an encrypted object's content, which
// is exactly length bytes of r.
type segmentReader struct {
	r         io.Reader
	aead      cipher.AEAD
	ad        []byte
	remaining int64
	counter   uint64
	sealed    []byte
	plain     []byte
	pos       int
}

func newSegmentReader(r io.Reader, aead cipher.AEAD, ad []byte, length int64) *segmentReader {
	return &segmentReader{
		r:         r,
		aead:      aead,
		ad:        ad,
		remaining: length,
		sealed:    make([]byte, segmentSize+aead.Overhead()),
	}
}

func (s *segmentReader) Read(p []byte) (int, error) {
	for s.pos == len(s.plain) {
		if s.remaining == 0 {
			return 0, io.EOF
		}
		if err := s.open(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.plain[s.pos:])
	s.pos += n
	return n, nil
}

func (s *segmentReader) open() error {
	size := int64(len(s.sealed))
	flag := byte(flagMore)
	if s.remaining <= size {
		size = s.remaining
		flag = flagLast
	}
	if size < int64(s.aead.Overhead()) {
		return fmt.Errorf("%w: segment %d is shorter than its tag", errCorrupt, s.counter)
	}
	sealed := s.sealed[:size]
	if _, err := io.ReadFull(s.r, sealed); err != nil {
		return fmt.Errorf("%w: read segment %d: %v", errCorrupt, s.counter, err)
	}

	plain, err := s.aead.Open(s.plain[:0], segmentNonce(s.counter, flag), sealed, s.ad)
	if err != nil {
		return fmt.Errorf("%w: segment %d failed authentication (truncated, reordered or altered, or the wrong encryption key)", errCorrupt, s.counter)
	}
	s.plain, s.pos = plain, 0
	s.remaining -= size
	s.counter++
	return nil
}

// encodeTrailer returns the trailer and footer bytes to append after the
// content. aead is nil for a plaintext object.
func encodeTrailer(t trailer, aead cipher.AEAD, ad []byte) ([]byte, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	magic := magicPlain
	if aead != nil {
		data = aead.Seal(nil, segmentNonce(0, flagTrailer), data, ad)
		magic = magicEncrypted
	}
	data = binary.BigEndian.AppendUint32(data, uint32(len(data)))
	return append(data, magic...), nil
}

// layout locates the parts of an object file of the given size.
type layout struct {
	encrypted     bool
	contentOffset int64
	contentLength int64
	trailerOffset int64
	trailerLength int64
}

// readLayout reads the footer of an object file.
func readLayout(r io.ReaderAt, size int64) (layout, error) {
	if size < footerSize {
		return layout{}, fmt.Errorf("%w: %d bytes is shorter than the footer", errCorrupt, size)
	}
	footer := make([]byte, footerSize)
	if _, err := r.ReadAt(footer, size-footerSize); err != nil {
		return layout{}, fmt.Errorf("%w: read footer: %v", errCorrupt, err)
	}

	l := layout{trailerLength: int64(binary.BigEndian.Uint32(footer[:4]))}
	switch string(footer[4:]) {
	case magicPlain:
	case magicEncrypted:
		l.encrypted = true
		l.contentOffset = int64(headerSize)
	default:
		return layout{}, fmt.Errorf("%w: unknown format marker %q", errCorrupt, footer[4:])
	}
	if l.trailerLength > maxTrailerSize {
		return layout{}, fmt.Errorf("%w: trailer length %d exceeds %d", errCorrupt, l.trailerLength, maxTrailerSize)
	}

	l.trailerOffset = size - footerSize - l.trailerLength
	l.contentLength = l.trailerOffset - l.contentOffset
	if l.contentLength < 0 {
		return layout{}, fmt.Errorf("%w: trailer length %d does not fit in %d bytes", errCorrupt, l.trailerLength, size)
	}
	return l, nil
}

// readTrailer reads and, for an encrypted object, opens the trailer.
func readTrailer(r io.ReaderAt, l layout, aead cipher.AEAD, ad []byte) (trailer, error) {
	data := make([]byte, l.trailerLength)
	if _, err := r.ReadAt(data, l.trailerOffset); err != nil {
		return trailer{}, fmt.Errorf("%w: read trailer: %v", errCorrupt, err)
	}
	if aead != nil {
		opened, err := aead.Open(nil, segmentNonce(0, flagTrailer), data, ad)
		if err != nil {
			return trailer{}, fmt.Errorf("%w: trailer failed authentication (altered, moved from another key, or the wrong encryption key)", errCorrupt)
		}
		data = opened
	}

	var t trailer
	if err := json.Unmarshal(data, &t); err != nil {
		return trailer{}, fmt.Errorf("%w: decode trailer: %v", errCorrupt, err)
	}
	return t, nil
}
