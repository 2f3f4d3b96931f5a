package openaichat

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readEvents(t *testing.T, stream string) ([]string, error) {
	t.Helper()
	events := newEventReader(strings.NewReader(stream))
	var out []string
	for {
		data, err := events.Next()
		if err != nil {
			return out, err
		}
		out = append(out, string(data))
	}
}

func TestEventReader(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []string
	}{
		{"lf", "data: a\n\ndata: b\n\n", []string{"a", "b"}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}},
		{"cr", "data: a\r\rdata: b\r\r", []string{"a", "b"}},
		{"multi-line data", "data: a\ndata: b\n\n", []string{"a\nb"}},
		{"no space after colon", "data:a\n\n", []string{"a"}},
		{"comments and other fields", ": ping\nevent: message\nid: 7\ndata: a\nretry: 10\n\n", []string{"a"}},
		{"blank lines between", "\n\n\ndata: a\n\n\n", []string{"a"}},
		{"event without data", "event: x\n\ndata: a\n\n", []string{"a"}},
		{"cut-off event dropped", "data: a\n\ndata: b\n", []string{"a"}},
		{"empty data", "data:\n\n", []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readEvents(t, tc.stream)
			require.ErrorIs(t, err, io.EOF)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestEventReaderLimit(t *testing.T) {
	_, err := readEvents(t, "data: "+strings.Repeat("x", maxEventBytes+1)+"\n\n")
	assert.ErrorIs(t, err, errEventTooLarge)
}
