package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/healthhub/healthhub/sdk"
)

// compileConfigSchema compiles the manifest's config schema, or returns nil
// when the manifest names none.
func compileConfigSchema(m Manifest) (*jsonschema.Schema, error) {
	if m.ConfigSchema == "" {
		return nil, nil
	}
	path, err := filepath.Abs(filepath.Join(m.dir, m.ConfigSchema))
	if err != nil {
		return nil, fmt.Errorf("load config schema of plugin %q: %w", m.Name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config schema of plugin %q: %w", m.Name, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("load config schema of plugin %q: %s is not valid JSON: %w", m.Name, path, err)
	}
	compiler := jsonschema.NewCompiler()
	if err := compiler.AddResource(path, doc); err != nil {
		return nil, fmt.Errorf("load config schema of plugin %q: %w", m.Name, err)
	}
	schema, err := compiler.Compile(path)
	if err != nil {
		return nil, fmt.Errorf("compile config schema of plugin %q: %w", m.Name, err)
	}
	return schema, nil
}

// validateConfig checks a plugin's configuration object against its
// schema. It returns an *sdk.Outcome with one issue per violation, each
// with the JSON Pointer of the offending value inside the object.
func validateConfig(schema *jsonschema.Schema, name string, config json.RawMessage) error {
	if schema == nil {
		return nil
	}
	raw := config
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("null")
	}
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return sdk.Invalidf("", "configure plugin %q: the configuration is not valid JSON: %v", name, err)
	}
	err = schema.Validate(instance)
	var invalid *jsonschema.ValidationError
	if !errors.As(err, &invalid) {
		return err
	}

	outcome := &sdk.Outcome{}
	for _, unit := range invalid.BasicOutput().Errors {
		if unit.Error == nil {
			continue
		}
		outcome.Issues = append(outcome.Issues, sdk.Issue{
			Severity:    sdk.SeverityError,
			Code:        sdk.CodeInvalid,
			Path:        unit.InstanceLocation,
			Diagnostics: fmt.Sprintf("configure plugin %q: %s", name, unit.Error.String()),
			Rule:        unit.KeywordLocation,
			Source:      sdk.SourceHub,
		})
	}
	if len(outcome.Issues) == 0 {
		return sdk.Invalidf("", "configure plugin %q: %v", name, err)
	}
	return outcome
}
