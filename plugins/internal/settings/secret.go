package settings

import (
	"os"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// Secret is a credential given either inline or as the path of a file that
// contains it. Prefer the file form, which keeps the value out of the hub
// configuration.
type Secret struct {
	// Value is the credential itself. Default: none.
	Value string
	// File is the path of a file whose content, with surrounding white
	// space removed, is the credential. Default: none.
	File string
	// ValuePath and FilePath are the JSON Pointers of the two settings,
	// used in error messages.
	ValuePath, FilePath string
}

// Read returns the credential, or "" when neither form is set. It never
// puts the credential into an error message.
func (s Secret) Read(plugin string) (string, error) {
	if s.Value != "" && s.File != "" {
		return "", sdk.Invalidf(s.FilePath, "configure %s: set %s or %s, not both", plugin, s.ValuePath, s.FilePath)
	}
	if s.File == "" {
		return strings.TrimSpace(s.Value), nil
	}

	data, err := os.ReadFile(s.File)
	if err != nil {
		return "", sdk.Invalidf(s.FilePath, "configure %s: read %s: %v", plugin, s.FilePath, err)
	}
	value := strings.TrimSpace(string(data))
	if value == "" {
		return "", sdk.Invalidf(s.FilePath, "configure %s: file %q named by %s is empty", plugin, s.File, s.FilePath)
	}
	return value, nil
}
