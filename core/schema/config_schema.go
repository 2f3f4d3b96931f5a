package schema

import (
	"context"
	"fmt"
	"regexp"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var pluginName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ConfigSchema is a compiled plugin configuration schema. It is safe for
// concurrent use.
type ConfigSchema struct {
	name     string
	schema   *jsonschema.Schema
	compiled *compiled
}

// CompileConfig compiles the configuration schema of the plugin name from
// doc, a JSON Schema document (draft 2020-12 unless its $schema names
// another draft) that the plugin ships beside its manifest. The document must
// stand alone: a $ref may point inside it but not to other files. Format
// assertions are on, and the hub's fhir-* formats are available.
func CompileConfig(name string, doc []byte) (*ConfigSchema, error) {
	if !pluginName.MatchString(name) {
		return nil, fmt.Errorf("compile config schema: invalid plugin name %q; use lowercase letters, digits, '.', '_' and '-'", name)
	}
	parsed, err := Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("compile config schema of plugin %q: %w", name, err)
	}
	c, err := newCompiler(resourceSchemas{}, dispatchValidate)
	if err != nil {
		return nil, err
	}
	u := baseURL + "plugins/" + name + "/config" + schemaSuffix
	if err := c.AddResource(u, parsed); err != nil {
		return nil, fmt.Errorf("compile config schema of plugin %q: %w", name, err)
	}
	sch, err := c.Compile(u)
	if err != nil {
		return nil, fmt.Errorf("compile config schema of plugin %q: %w", name, err)
	}
	return &ConfigSchema{
		name:     name,
		schema:   sch,
		compiled: &compiled{docs: map[string]any{u: parsed}},
	}, nil
}

// Validate parses data and validates it against the schema. It returns nil
// or an *sdk.Outcome whose issue paths point into data.
func (s *ConfigSchema) Validate(ctx context.Context, data []byte) error {
	doc, err := Parse(data)
	if err != nil {
		return err
	}
	return s.ValidateDocument(ctx, doc)
}

// ValidateDocument is Validate for a parsed document, such as a plugin's
// section of the hub configuration.
func (s *ConfigSchema) ValidateDocument(ctx context.Context, doc any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return validateWith(s.compiled, s.schema, "", doc)
}
