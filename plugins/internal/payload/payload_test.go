package payload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endlessReader returns zeros forever and cancels ctx after a few reads.
type endlessReader struct {
	reads  int
	cancel context.CancelFunc
}

func (r *endlessReader) Read(p []byte) (int, error) {
	r.reads++
	if r.reads == 3 {
		r.cancel()
	}
	clear(p[:min(len(p), 100)])
	return min(len(p), 100), nil
}

func TestRead(t *testing.T) {
	data, err := Read(context.Background(), iotest.OneByteReader(bytes.NewReader([]byte("hello"))), 5)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(data))

	_, err = Read(context.Background(), bytes.NewReader(make([]byte, 6)), 5)
	assert.ErrorIs(t, err, ErrTooLarge)

	_, err = Read(context.Background(), iotest.ErrReader(io.ErrUnexpectedEOF), 5)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	empty, err := Read(context.Background(), bytes.NewReader(nil), 5)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestReadStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	reader := &endlessReader{cancel: cancel}

	_, err := Read(ctx, reader, 1<<30)
	assert.True(t, errors.Is(err, context.Canceled))
	assert.Equal(t, 3, reader.reads)
}
