// Package payload reads request payloads, such as audio and images, into
// memory for the HTTP provider plugins, within a size limit and with the
// caller's context checked between reads, so a cancelled call stops
// reading a slow stream at once.
package payload

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned by Read when the payload is longer than the
// limit.
var ErrTooLarge = errors.New("payload exceeds the size limit")

// chunkSize is the read size; small enough that a cancellation is noticed
// within one chunk of a slow reader.
const chunkSize = 64 << 10

// Read reads r to its end and returns the bytes. It returns ErrTooLarge as
// soon as more than limit bytes arrive, and the context's error wrapped
// when ctx ends first.
func Read(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	var data []byte
	chunk := make([]byte, chunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read payload: %w", err)
		}
		n, err := r.Read(chunk)
		data = append(data, chunk[:n]...)
		if int64(len(data)) > limit {
			return nil, ErrTooLarge
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read payload: %w", err)
		}
	}
}
