package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Sizes of the plugin protocol's messages.
const (
	// MaxMessageSize is the largest gRPC message the hub and a plugin
	// accept from each other, in bytes (128 MiB). Byte payloads stream in
	// chunks and never come near it. It bounds the JSON payloads that
	// travel in one message, such as an EHR Bundle or an imaging result.
	MaxMessageSize = 128 << 20

	// chunkSize is the largest data chunk sent in one stream message.
	chunkSize = 1 << 20
	// minChunkSize is how much data a sender collects before it sends a
	// chunk, unless the source ends first. It keeps the message count low
	// for sources that return small reads.
	minChunkSize = 256 << 10
)

// scratchBuffers holds chunk-sized read buffers, so that a small payload
// does not cost a 1 MiB allocation.
var scratchBuffers = sync.Pool{New: func() any {
	buf := make([]byte, chunkSize)
	return &buf
}}

// sendChunks reads r to its end and passes it to send in chunks. Each chunk
// is a new slice of exactly the bytes read, because gRPC may hold on to a
// message after Send returns. An error reading r is returned wrapped in a
// *sourceError.
func sendChunks(r io.Reader, send func([]byte) error) error {
	scratch := scratchBuffers.Get().(*[]byte)
	defer scratchBuffers.Put(scratch)
	for {
		n, err := io.ReadAtLeast(r, *scratch, minChunkSize)
		if n > 0 {
			if sendErr := send(bytes.Clone((*scratch)[:n])); sendErr != nil {
				return sendErr
			}
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		default:
			return &sourceError{err: err}
		}
	}
}

// sourceError is a failure of the caller's reader, as opposed to a failure
// of the call, so that it reaches the caller unchanged.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return fmt.Sprintf("read payload: %v", e.err) }
func (e *sourceError) Unwrap() error { return e.err }

// chunkReader is an io.Reader over a sequence of chunks. next returns the
// following chunk, or io.EOF after the last one.
type chunkReader struct {
	next func() ([]byte, error)
	buf  []byte
	err  error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.buf, r.err = r.next()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// chunkWriter is an io.Writer that passes what is written to send in
// chunks of chunkSize. Flush sends what remains.
type chunkWriter struct {
	send func([]byte) error
	buf  []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, chunkSize)
		}
		n := min(len(p), chunkSize-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		written += n
		if len(w.buf) == chunkSize {
			if err := w.Flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// Flush sends the buffered bytes, if any.
func (w *chunkWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	chunk := w.buf
	w.buf = nil
	return w.send(chunk)
}
