package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStringChecks(t *testing.T) {
	tests := []struct {
		typ    string
		value  string
		reason string // "" when the value is valid
	}{
		{"date", "2020", ""},
		{"date", "2020-05", ""},
		{"date", "2020-05-31", ""},
		{"date", "2024-02-29", ""},
		{"date", "2023-02-29", "day 29 is out of range 01 to 28"},
		{"date", "1974-13-01", "month 13 is out of range"},
		{"date", "0000", "year 0000 does not exist"},
		{"date", "74-01-01", "the year must be four digits"},
		{"date", "2020-5", "the month must be two digits"},
		{"date", "2020-05-31T10:00:00Z", "a date has no time"},
		{"date", "2020-05-31 ", "unexpected"},
		{"dateTime", "2020", ""},
		{"dateTime", "2020-05-31T10:00:00Z", ""},
		{"dateTime", "2020-05-31T10:00:00.123456+14:00", ""},
		{"dateTime", "2020-05-31T23:59:60-05:30", ""},
		{"dateTime", "2020-05-31T10:00:00", "no timezone"},
		{"dateTime", "2020-05-31T10:00Z", "hh:mm:ss, with seconds"},
		{"dateTime", "2020-05T10:00:00Z", "needs a full date"},
		{"dateTime", "2020-05-31T24:00:00Z", "hour 24 is out of range"},
		{"dateTime", "2020-05-31T10:60:00Z", "minute 60"},
		{"dateTime", "2020-05-31T10:00:00+14:30", "out of range -14:00 to +14:00"},
		{"dateTime", "2020-05-31T10:00:00+0100", "not Z or ±hh:mm"},
		{"dateTime", "2020-05-31t10:00:00Z", "expected 'T'"},
		{"dateTime", "2020-05-31T10:00:00.Z", "needs digits after it"},
		{"instant", "2015-02-07T13:28:17.239+02:00", ""},
		{"instant", "2015-02-07", "needs a time"},
		{"instant", "2015-02", "needs a full date"},
		{"time", "13:28:17", ""},
		{"time", "13:28:17.5", ""},
		{"time", "13:28", "hh:mm:ss"},
		{"time", "13:28:17Z", "no timezone"},
		{"string", "a b\tc\r\n", ""},
		{"string", "", "it is empty"},
		{"string", "a\x00b", "control character 0x00"},
		{"string", strings.Repeat("a", maxStringBytes+1), "more than the FHIR limit"},
		{"code", "final", ""},
		{"code", "entered in error", ""},
		{"code", " final", "unexpected whitespace"},
		{"code", "final ", "ends with whitespace"},
		{"code", "a  b", "unexpected whitespace"},
		{"code", "a\tb", "unexpected whitespace"},
		{"id", "example-1.2", ""},
		{"id", strings.Repeat("a", 64), ""},
		{"id", strings.Repeat("a", 65), "65 characters long"},
		{"id", "a_b", "'_'"},
		{"uri", "urn:oid:1.2.3", ""},
		{"uri", "Patient?identifier=http://example.org|1", ""},
		{"uri", "http://example.org/a b", "whitespace"},
		{"uri", "http://example.org/a%2", "not followed by two hex digits"},
		{"uri", "http://example.org/a%zz", "not followed by two hex digits"},
		{"uri", "1http://example.org", "is not a URI scheme"},
		{"uri", ":a", "is not a URI scheme"},
		{"uri", "a/b:c", ""},
		{"canonical", "http://hl7.org/fhir/ValueSet/languages|4.0.1", ""},
		{"oid", "urn:oid:1.2.840.10008", ""},
		{"oid", "urn:oid:3.1", "arc of 0, 1 or 2"},
		{"oid", "urn:oid:1.02", "leading zeros"},
		{"uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", ""},
		{"uuid", "urn:uuid:C757873D-EC9A-4326-A141-556F43239520", "not a lowercase hex digit"},
		{"uuid", "c757873d-ec9a-4326-a141-556f43239520", "not urn:uuid:"},
		{"base64Binary", "SGVsbG8=", ""},
		{"base64Binary", "SGVs\r\nbG8=", ""},
		{"base64Binary", "SGVsbG8", "not a multiple of 4"},
		{"base64Binary", "SG=sbG8=", "follows the padding"},
		{"base64Binary", "SGVs*G8=", "not a base64 character"},
		{"xhtml", `<div xmlns="http://www.w3.org/1999/xhtml">text</div>`, ""},
		{"xhtml", `<p>text</p>`, "does not start with a <div>"},
		{"xhtml", `<div>text`, "does not end with </div>"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+" "+tc.value[:min(len(tc.value), 40)], func(t *testing.T) {
			err := checkPrimitive(tc.typ, tc.value)
			if tc.reason == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tc.reason)
				assert.Contains(t, err.Error(), "is not a valid FHIR "+tc.typ)
			}
		})
	}
}

func TestIntegerChecks(t *testing.T) {
	tests := []struct {
		typ    string
		lowest int64
		value  any
		reason string
	}{
		{"integer", -1 << 31, json.Number("-2147483648"), ""},
		{"integer", -1 << 31, json.Number("2147483647"), ""},
		{"integer", -1 << 31, json.Number("2147483648"), "out of range"},
		{"integer", -1 << 31, json.Number("99999999999999999999"), "out of range"},
		{"integer", -1 << 31, json.Number("1.0"), "not a whole number"},
		{"integer", -1 << 31, json.Number("1e2"), "not a whole number"},
		{"integer", -1 << 31, float64(3), ""},
		{"unsignedInt", 0, json.Number("0"), ""},
		{"unsignedInt", 0, json.Number("-1"), "out of range"},
		{"positiveInt", 1, json.Number("1"), ""},
		{"positiveInt", 1, json.Number("0"), "out of range"},
		{"positiveInt", 1, "1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.typ+" "+asText(tc.value), func(t *testing.T) {
			err := integerCheck(tc.typ, tc.lowest)(tc.value)
			if tc.reason == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tc.reason)
			}
		})
	}
}

func asText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFormatErrorCutsLongValues(t *testing.T) {
	err := checkBase64(strings.Repeat("A", 1000) + "*")
	if assert.Error(t, err) {
		assert.Less(t, len(err.Error()), 400)
		assert.Contains(t, err.Error(), "(1001 bytes)")
	}
}
