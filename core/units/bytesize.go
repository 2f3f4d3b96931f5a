package units

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes, written in configuration as an integer or
// as a string with a binary or decimal unit: "512KiB", "8MiB", "1GB", "4096".
type ByteSize int64

var byteUnits = []struct {
	suffix string
	factor int64
}{
	// Longer suffixes first, so "KiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000},
	{"B", 1},
}

// Int64 returns s as a number of bytes.
func (s ByteSize) Int64() int64 { return int64(s) }

// Or returns s as a number of bytes, or fallback when s is zero.
func (s ByteSize) Or(fallback int64) int64 {
	if s == 0 {
		return fallback
	}
	return int64(s)
}

// String formats s with the largest binary unit that divides it exactly.
func (s ByteSize) String() string {
	for _, unit := range []struct {
		suffix string
		factor int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%unit.factor == 0 {
			return strconv.FormatInt(int64(s)/unit.factor, 10) + unit.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// MarshalJSON writes s as a string with a unit.
func (s ByteSize) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads an integer number of bytes or a string with a unit.
func (s *ByteSize) UnmarshalJSON(data []byte) error {
	text := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &text); err != nil {
			return fmt.Errorf("parse size %s: %w", data, err)
		}
	}
	parsed, err := ParseByteSize(text)
	if err != nil {
		return err
	}
	*s = parsed
	return nil
}

// ParseByteSize parses "8MiB", "1GB", "512B" or a bare integer of bytes.
func ParseByteSize(text string) (ByteSize, error) {
	trimmed := strings.TrimSpace(text)
	factor := int64(1)
	for _, unit := range byteUnits {
		if strings.HasSuffix(trimmed, unit.suffix) {
			trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, unit.suffix))
			factor = unit.factor
			break
		}
	}
	n, err := strconv.ParseInt(trimmed, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("parse size %q: want a whole number of bytes, optionally with a unit such as 512KiB, 8MiB or 1GB", text)
	}
	if n > math.MaxInt64/factor {
		return 0, fmt.Errorf("parse size %q: larger than %d bytes", text, int64(math.MaxInt64))
	}
	return ByteSize(n * factor), nil
}
