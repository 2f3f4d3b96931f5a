package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/healthhub/healthhub/core/schema"
)

// compileConfigSchema compiles the manifest's config schema, or returns nil
// when the manifest names none.
func compileConfigSchema(m Manifest) (*schema.ConfigSchema, error) {
	if m.ConfigSchema == "" {
		return nil, nil
	}
	path := filepath.Join(m.dir, m.ConfigSchema)
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config schema of plugin %q: %w", m.Name, err)
	}
	compiled, err := schema.CompileConfig(m.Name, doc)
	if err != nil {
		return nil, fmt.Errorf("load config schema of plugin %q from %s: %w", m.Name, path, err)
	}
	return compiled, nil
}

// validateConfig checks a plugin's configuration object against its
// schema. It returns an *sdk.Outcome with one issue per violation, each
// with the JSON Pointer of the offending value inside the object. An empty
// configuration is validated as null.
func validateConfig(ctx context.Context, compiled *schema.ConfigSchema, config json.RawMessage) error {
	if compiled == nil {
		return nil
	}
	raw := []byte(config)
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("null")
	}
	return compiled.Validate(ctx, raw)
}
