package units

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration written in configuration as a Go duration
// string, such as "250ms", "30s" or "1h30m".
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Or returns d as a time.Duration, or fallback when d is zero.
func (d Duration) Or(fallback time.Duration) time.Duration {
	if d == 0 {
		return fallback
	}
	return time.Duration(d)
}

// String formats d the way time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "30s". Negative durations
// are rejected because no setting of the hub means anything by them.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("parse duration: want a string such as \"30s\", got %s", data)
	}
	parsed, err := ParseDuration(text)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// ParseDuration parses a Go duration string and rejects negative values.
func ParseDuration(text string) (Duration, error) {
	parsed, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("parse duration %q: want a number with a unit such as 250ms, 30s or 1h30m", text)
	}
	if parsed < 0 {
		return 0, fmt.Errorf("parse duration %q: must not be negative", text)
	}
	return Duration(parsed), nil
}
