package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// Decode reads a plugin's configuration object into dst, a pointer to its
// Config struct. Unknown fields are rejected so a misspelt setting is not
// silently ignored. A null or empty config leaves dst unchanged. plugin
// names the provider in error messages, such as "llm-openai".
func Decode(raw json.RawMessage, dst any, plugin string) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}

	decoder := json.NewDecoder(bytes.NewReader(trimmed))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(dst); err != nil {
		return decodeError(err, plugin)
	}
	if decoder.More() {
		return sdk.Invalidf("", "configure %s: unexpected data after the configuration object; pass exactly one JSON object", plugin)
	}
	return nil
}

// decodeError turns an encoding/json error into an outcome with the JSON
// Pointer of the offending setting where the error names one.
func decodeError(err error, plugin string) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		path := fieldPointer(typeErr.Field)
		return sdk.Invalidf(path, "configure %s: setting %s must be %s, got JSON %s", plugin, displayPath(path), typeErr.Type, typeErr.Value)
	}

	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return sdk.Invalidf("", "configure %s: configuration is not valid JSON at byte %d: %v", plugin, syntaxErr.Offset, err)
	}

	// encoding/json reports unknown fields only as text: json: unknown
	// field "name". It does not say in which nested object.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return sdk.Invalidf("", "configure %s: unknown setting %s; check its spelling against config.schema.json", plugin, name)
	}

	// Errors returned by UnmarshalJSON methods, such as Duration's, carry
	// no field name in encoding/json v1.
	return sdk.Invalidf("", "configure %s: %v", plugin, err)
}

// fieldPointer converts the dotted field path of encoding/json, such as
// "input.mean", into a JSON Pointer, such as "/input/mean".
func fieldPointer(field string) string {
	if field == "" {
		return ""
	}
	var b strings.Builder
	for part := range strings.SplitSeq(field, ".") {
		b.WriteByte('/')
		b.WriteString(escapePointer(part))
	}
	return b.String()
}

func escapePointer(token string) string {
	token = strings.ReplaceAll(token, "~", "~0")
	return strings.ReplaceAll(token, "/", "~1")
}

func displayPath(pointer string) string {
	if pointer == "" {
		return "(root)"
	}
	return fmt.Sprintf("%q", pointer)
}
