package units

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    time.Duration
		wantErr string
	}{
		{"seconds", `"30s"`, 30 * time.Second, ""},
		{"compound", `"1h30m"`, 90 * time.Minute, ""},
		{"zero", `"0s"`, 0, ""},
		{"negative", `"-5s"`, 0, "must not be negative"},
		{"no unit", `"30"`, 0, "want a number with a unit"},
		{"number", `30`, 0, "want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Duration
			err := json.Unmarshal([]byte(tc.input), &d)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Std())
		})
	}
}

func TestDurationRoundTrip(t *testing.T) {
	data, err := json.Marshal(Duration(90 * time.Second))
	require.NoError(t, err)
	assert.Equal(t, `"1m30s"`, string(data))
}

func TestDurationOr(t *testing.T) {
	assert.Equal(t, 5*time.Second, Duration(0).Or(5*time.Second))
	assert.Equal(t, time.Second, Duration(time.Second).Or(5*time.Second))
}

func TestByteSizeJSON(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int64
		wantErr bool
	}{
		{"integer", `4096`, 4096, false},
		{"integer string", `"4096"`, 4096, false},
		{"kibibytes", `"512KiB"`, 512 << 10, false},
		{"mebibytes", `"8MiB"`, 8 << 20, false},
		{"gigabytes", `"1GB"`, 1_000_000_000, false},
		{"bytes suffix", `"10B"`, 10, false},
		{"space before unit", `"2 MiB"`, 2 << 20, false},
		{"negative", `"-1MiB"`, 0, true},
		{"fraction", `"1.5MiB"`, 0, true},
		{"unknown unit", `"3PB"`, 0, true},
		{"overflow", `"9999999999TiB"`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s ByteSize
			err := json.Unmarshal([]byte(tc.input), &s)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Int64())
		})
	}
}

func TestByteSizeString(t *testing.T) {
	assert.Equal(t, "8MiB", ByteSize(8<<20).String())
	assert.Equal(t, "1000B", ByteSize(1000).String())
	assert.Equal(t, "0B", ByteSize(0).String())
	assert.Equal(t, int64(7), ByteSize(0).Or(7))
}
