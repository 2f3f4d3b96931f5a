package dicomreader

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// DefaultMaxObjectBytes is the default limit on the size of a DICOM object:
// 512 MiB.
const DefaultMaxObjectBytes = 512 << 20

// Config configures a Reader. The JSON form is the plugin's configuration
// object in the hub configuration, and unknown fields are rejected. A zero
// field takes its default.
type Config struct {
	// MaxObjectBytes is the largest DICOM object accepted, in bytes. The
	// object is held in memory while it is read. Larger objects are
	// rejected with ErrTooLarge. Default 536870912 (512 MiB).
	MaxObjectBytes int64 `json:"max_object_bytes,omitempty"`
	// TimeZone is the IANA time zone, such as "America/New_York", of
	// study and series times in objects without Timezone Offset From UTC
	// (0008,0201). FHIR requires a zone with a time of day, so without
	// either the ImagingStudy gives only the date. Default: none.
	TimeZone string `json:"time_zone,omitempty"`
}

// settings is a Config with the defaults applied.
type settings struct {
	maxObjectBytes int64
	zone           *time.Location
}

func (c Config) resolve() (*settings, error) {
	s := &settings{maxObjectBytes: c.MaxObjectBytes}
	if c.MaxObjectBytes < 0 {
		return nil, sdk.Invalidf("/max_object_bytes", "configure imaging-dicom: max_object_bytes is %d; use a positive number of bytes, or 0 for the default %d", c.MaxObjectBytes, DefaultMaxObjectBytes)
	}
	if s.maxObjectBytes == 0 {
		s.maxObjectBytes = DefaultMaxObjectBytes
	}
	if c.TimeZone != "" {
		zone, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			return nil, sdk.Invalidf("/time_zone", "configure imaging-dicom: time_zone %q is not an IANA time zone name, such as Europe/Paris: %v", c.TimeZone, err)
		}
		s.zone = zone
	}
	return s, nil
}

// decodeConfig decodes the JSON configuration strictly: unknown fields and
// values of the wrong type are errors with the JSON Pointer of the
// setting. Null or empty input is the zero Config.
func decodeConfig(raw json.RawMessage) (Config, error) {
	var c Config
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return c, nil
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return Config{}, sdk.Invalidf("", "configure imaging-dicom: the configuration is not a JSON object: %v", err)
	}
	known := map[string]bool{}
	for field := range reflect.TypeFor[Config]().Fields() {
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		known[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !known[name] {
			return Config{}, sdk.Invalidf("/"+name, "configure imaging-dicom: unknown setting %q; see config.schema.json for the accepted settings", name)
		}
	}

	if err := json.Unmarshal(trimmed, &c); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Config{}, sdk.Invalidf("/"+typeErr.Field, "configure imaging-dicom: %s must be a JSON %s, got %s", typeErr.Field, typeErr.Type.Kind(), typeErr.Value)
		}
		return Config{}, sdk.Invalidf("", "configure imaging-dicom: decode the configuration: %v", err)
	}
	return c, nil
}
