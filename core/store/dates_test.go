package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateRange(t *testing.T) {
	micros := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm.UnixMicro()
	}
	tests := []struct {
		in     string
		lo, hi string
	}{
		{"2024", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"2024-02", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"2024-03-05T10:00:00Z", "2024-03-05T10:00:00Z", "2024-03-05T10:00:01Z"},
		{"2024-03-05T10:00", "2024-03-05T10:00:00Z", "2024-03-05T10:01:00Z"},
		{"2024-03-05T10:00:00.5+02:00", "2024-03-05T08:00:00.5Z", "2024-03-05T08:00:00.6Z"},
		{"1991-07-08T01:39:26.097+00:00", "1991-07-08T01:39:26.097Z", "1991-07-08T01:39:26.098Z"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			lo, hi, err := dateRange(tc.in)
			require.NoError(t, err)
			assert.Equal(t, micros(tc.lo), lo)
			assert.Equal(t, micros(tc.hi), hi)
		})
	}
	for _, bad := range []string{"", "24", "2023-02-29", "2024-13", "2024-01-01T25:00:00Z", "2024-01-01 10:00", "tomorrow"} {
		t.Run("reject "+bad, func(t *testing.T) {
			_, _, err := dateRange(bad)
			assert.Error(t, err)
		})
	}
}

func TestScanResourceSpans(t *testing.T) {
	body := []byte(`{ "resourceType": "Encounter", "id": "e1", "meta": {"versionId":"3"},
		"subject": {"reference": "urn:uuid:1"}, "contained": [{"resourceType":"Patient","id":"x"}],
		"participant": [{"individual": {"reference": "Practitioner?identifier=a|b"}}],
		"content": [{"attachment": {"data": "aGVsbG8="}}] }`)
	sc, err := scanResource(body)
	require.NoError(t, err)
	assert.Equal(t, "Encounter", sc.resourceType)
	require.NotNil(t, sc.id)
	assert.Equal(t, `"e1"`, string(body[sc.id.start:sc.id.end]))
	require.NotNil(t, sc.versionID)
	assert.Equal(t, `"3"`, string(body[sc.versionID.start:sc.versionID.end]))
	assert.Nil(t, sc.lastUpdated)
	assert.Equal(t, 1, sc.metaMembers)
	require.Len(t, sc.refs, 2)
	assert.Equal(t, "urn:uuid:1", sc.refs[0].text)
	assert.Equal(t, "Practitioner?identifier=a|b", sc.refs[1].text)
	require.Len(t, sc.data, 1)
	assert.Equal(t, `"aGVsbG8="`, string(body[sc.data[0].start:sc.data[0].end]))
	assert.Equal(t, "/participant/0/individual/reference", pointerAt(body, sc.refs[1].value.start))
}

func TestScanResourceRejectsDeepNesting(t *testing.T) {
	body := []byte(`{"resourceType":"Basic","x":`)
	for range 300 {
		body = append(body, '[')
	}
	for range 300 {
		body = append(body, ']')
	}
	body = append(body, '}')
	_, err := scanResource(body)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nesting deeper")
}
