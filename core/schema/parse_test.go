package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValues(t *testing.T) {
	doc, err := Parse([]byte(` {"s": "a\"b\\u00e9\ud83d\ude00", "n": -0.10e+2, "i": 12345678901234567890, "t": true, "f": false, "z": null, "a": [1, [], {}]} `))
	require.NoError(t, err)

	obj := doc.(map[string]any)
	assert.Equal(t, "a\"b\\u00e9\U0001F600", obj["s"])
	assert.Equal(t, json.Number("-0.10e+2"), obj["n"])
	assert.Equal(t, json.Number("12345678901234567890"), obj["i"])
	assert.Equal(t, true, obj["t"])
	assert.Equal(t, false, obj["f"])
	assert.Nil(t, obj["z"])
	assert.Contains(t, obj, "z")
	assert.Equal(t, []any{json.Number("1"), []any{}, map[string]any{}}, obj["a"])
}

func TestParseUnicodeEscapes(t *testing.T) {
	doc, err := Parse([]byte(`["\u00e9", "\ud83d\ude00", "\n\t\/"]`))
	require.NoError(t, err)
	assert.Equal(t, []any{"é", "😀", "\n\t/"}, doc)
}

func TestParseSkipsByteOrderMark(t *testing.T) {
	doc, err := Parse(append([]byte{0xEF, 0xBB, 0xBF}, `{"a": 1}`...))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": json.Number("1")}, doc)
}

func TestParseKeepsNoAliasOfInput(t *testing.T) {
	data := []byte(`{"name": "Peter"}`)
	doc, err := Parse(data)
	require.NoError(t, err)

	copy(data, strings.Repeat("x", len(data)))
	assert.Equal(t, "Peter", doc.(map[string]any)["name"])
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		path    string
		message string
	}{
		{"empty input", ``, "", "unexpected end of JSON input"},
		{"missing comma", `{"a": 1 "b": 2}`, "", "expected ',' or '}'"},
		{"missing comma in nested array", `{"a": [{"b": [1 2]}]}`, "/a/0/b", "expected ',' or ']'"},
		{"trailing data", `{} {}`, "", "unexpected data after the end"},
		{"duplicate member", `{"a": {"b": 1, "b": 2}}`, "/a/b", "duplicate member \"b\""},
		{"unquoted name", `{a: 1}`, "", "expected a member name"},
		{"bad literal", `{"a": tru}`, "/a", "expected true"},
		{"bad number", `{"a": 01}`, "", "expected ',' or '}'"},
		{"number without digits", `{"a": -}`, "/a", "expected a digit"},
		{"fraction without digits", `[1.]`, "/0", "after the decimal point"},
		{"exponent without digits", `[1e+]`, "/0", "in the exponent"},
		{"control character", "[\"a\x01b\"]", "/0", "control character"},
		{"invalid escape", `["\x"]`, "/0", "invalid escape"},
		{"short unicode escape", `["\u12"]`, "/0", "four hex digits"},
		{"lone surrogate", `["\ud83d"]`, "/0", "unpaired UTF-16 surrogate"},
		{"invalid UTF-8", "[\"\xff\"]", "/0", "not valid UTF-8"},
		{"invalid UTF-8 after escape", "[\"\\n\xff\"]", "/0", "not valid UTF-8"},
		{"unterminated string", `["abc`, "/0", "inside a string"},
		{"unterminated object", `{"a": 1`, "", "inside an object"},
		{"too deep", strings.Repeat("[", MaxDepth+2), strings.Repeat("/0", MaxDepth+1), "nested deeper"},
		{"pointer escapes name", `{"a/b~": [}`, "/a~1b~0/0", "where a JSON value should start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.input))
			require.Error(t, err)

			var o *sdk.Outcome
			require.True(t, errors.As(err, &o))
			require.Len(t, o.Issues, 1)
			assert.Equal(t, sdk.CodeStructure, o.Issues[0].Code)
			assert.Equal(t, tc.path, o.Issues[0].Path)
			assert.Contains(t, o.Issues[0].Diagnostics, tc.message)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
		})
	}
}

func TestParseErrorPosition(t *testing.T) {
	_, err := Parse([]byte("{\n  \"a\": 1,\n  \"b\" 2\n}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 3, column 7")
}
