package fsstore

import (
	"strings"
	"unicode/utf8"

	"github.com/healthhub/healthhub/sdk"
)

const (
	// maxKeyLength is the longest key accepted, in bytes.
	maxKeyLength = 1024
	// maxSegmentLength keeps each file name, with its suffix, under the
	// 255-byte limit of common Linux filesystems.
	maxSegmentLength = 240
	// objectSuffix marks object files. Directories carry no suffix, so a
	// key segment may not end with it.
	objectSuffix = ".obj"
	// tempPrefix marks files that a Put is still writing.
	tempPrefix = ".tmp-"
)

// objectPath checks key and returns the object's file path relative to the
// root. Rejected keys get an invalid-input outcome that names the rule.
func objectPath(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return key + objectSuffix, nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return invalidKey(key, "key is empty")
	case len(key) > maxKeyLength:
		return invalidKey(key, "key is longer than 1024 bytes")
	case !utf8.ValidString(key):
		return invalidKey(key, "key is not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return invalidKey(key, "key must be relative; remove the leading slash")
	case strings.ContainsAny(key, "\x00\\"):
		return invalidKey(key, "key must not contain NUL or backslash")
	}
	for _, segment := range strings.Split(key, "/") {
		if err := checkSegment(key, segment); err != nil {
			return err
		}
	}
	return nil
}

func checkSegment(key, segment string) error {
	switch {
	case segment == "":
		return invalidKey(key, "key has an empty segment (a leading, trailing or doubled slash)")
	case segment == "." || segment == "..":
		return invalidKey(key, `key segments must not be "." or ".."`)
	case len(segment) > maxSegmentLength:
		return invalidKey(key, "a key segment is longer than 240 bytes")
	case strings.HasSuffix(segment, objectSuffix):
		return invalidKey(key, `key segments must not end with ".obj", which marks object files`)
	case strings.HasPrefix(segment, tempPrefix):
		return invalidKey(key, `key segments must not start with ".tmp-", which marks partial writes`)
	}
	return nil
}

func invalidKey(key, reason string) error {
	o := sdk.Invalidf("/key", "invalid object key %q: %s", truncate(key, 80), reason)
	o.Issues[0].Code = sdk.CodeValue
	return o
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
