package config

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed config.schema.json
var schemaJSON []byte

const schemaURL = "https://healthhub.local/schemas/hub-config.json"

// Schema returns the JSON Schema that configuration documents are checked
// against.
func Schema() []byte { return slices.Clone(schemaJSON) }

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("parse configuration schema: %w", err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.AssertFormat()
	if err := compiler.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("add configuration schema: %w", err)
	}
	return compiler.Compile(schemaURL)
})

// validate checks a JSON document against the schema and returns one
// problem per failing key, sorted by key.
func validate(data []byte, sources map[string]string) []Problem {
	schema, err := compiledSchema()
	if err != nil {
		return []Problem{{Message: err.Error()}}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []Problem{{Message: err.Error()}}
	}
	err = schema.Validate(doc)
	if err == nil {
		return nil
	}
	validationErr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Problem{{Message: err.Error()}}
	}

	var problems []Problem
	collectProblems(validationErr, sources, &problems)
	slices.SortStableFunc(problems, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return slices.CompactFunc(problems, func(a, b Problem) bool { return a == b })
}

var printer = message.NewPrinter(language.English)

// collectProblems walks the error tree down to the failures a user can act
// on. Errors of the shared value types stop the walk, so that a bad
// duration reads "must be a duration" instead of one line per branch.
func collectProblems(e *jsonschema.ValidationError, sources map[string]string, out *[]Problem) {
	if message, ok := typeMessage(e.SchemaURL); ok {
		*out = append(*out, problemAt(e.InstanceLocation, message, sources))
		return
	}
	if len(e.Causes) > 0 {
		for _, cause := range e.Causes {
			collectProblems(cause, sources, out)
		}
		return
	}

	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			path := append(slices.Clone(e.InstanceLocation), name)
			*out = append(*out, problemAt(path, "unknown key: check its spelling against the configuration reference", sources))
		}
	case *kind.Required:
		for _, name := range k.Missing {
			path := append(slices.Clone(e.InstanceLocation), name)
			*out = append(*out, problemAt(path, "required but not set", sources))
		}
	case *kind.DependentRequired:
		for _, name := range k.Missing {
			path := append(slices.Clone(e.InstanceLocation), name)
			*out = append(*out, problemAt(path, fmt.Sprintf("required when %s is set", k.Prop), sources))
		}
	case *kind.Enum:
		*out = append(*out, problemAt(e.InstanceLocation, "must be one of "+joinValues(k.Want), sources))
	case *kind.Type:
		*out = append(*out, problemAt(e.InstanceLocation, fmt.Sprintf("must be %s, got %s", withArticle(strings.Join(k.Want, " or ")), withArticle(k.Got)), sources))
	default:
		*out = append(*out, problemAt(e.InstanceLocation, e.ErrorKind.LocalizedString(printer), sources))
	}
}

// typeMessages replace the library's messages for the schema's shared
// definitions and compound rules.
var typeMessages = map[string]string{
	"#/$defs/duration":                       "must be a duration such as 500ms, 30s, 5m or 1h30m",
	"#/$defs/signedDuration":                 "must be a duration such as 30s or 5m, or a negative one such as -1s to turn it off",
	"#/then/required":                        "required when driver is postgres",
	"#/$defs/byteSize":                       "must be a size such as 4096, 512KiB, 8MiB or 1GB",
	"#/properties/auth/properties/oidc/then": "set exactly one of jwks_file and jwks_url when issuer is set",
	"#/properties/server/properties/listen":  "must be host:port, such as 127.0.0.1:8080 or :8080",
}

func typeMessage(schemaURL string) (string, bool) {
	_, fragment, _ := strings.Cut(schemaURL, "#")
	for suffix, message := range typeMessages {
		if "#"+fragment == suffix || strings.HasSuffix("#"+fragment, suffix) {
			return message, true
		}
	}
	return "", false
}

func problemAt(location []string, message string, sources map[string]string) Problem {
	key := strings.Join(location, ".")
	return Problem{Key: key, Message: message, Env: sources[key]}
}

func joinValues(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

// envKeys maps each HUB_* variable name to the key it sets, derived from
// the schema's properties.
var envKeys = sync.OnceValue(func() map[string]leafKey {
	var root map[string]any
	if err := json.Unmarshal(schemaJSON, &root); err != nil {
		panic(fmt.Sprintf("configuration schema is not JSON: %v", err))
	}
	keys := map[string]leafKey{}
	walkLeaves(root, root, nil, func(path []string, types []string) {
		name := EnvPrefix + strings.ToUpper(strings.Join(path, "_"))
		keys[name] = leafKey{key: strings.Join(path, "."), types: types}
	})
	return keys
})

// EnvNames returns every HUB_* variable that sets a key, with the key,
// sorted by name.
func EnvNames() [][2]string {
	var names [][2]string
	for name, leaf := range envKeys() {
		names = append(names, [2]string{name, leaf.key})
	}
	slices.SortFunc(names, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return names
}

func walkLeaves(root, node map[string]any, path []string, visit func([]string, []string)) {
	node = resolveRef(root, node)
	properties, isObject := node["properties"].(map[string]any)
	if !isObject {
		visit(path, leafTypes(root, node))
		return
	}
	for name, child := range properties {
		childNode, ok := child.(map[string]any)
		if !ok {
			continue
		}
		walkLeaves(root, childNode, append(slices.Clone(path), name), visit)
	}
}

func resolveRef(root, node map[string]any) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok || !strings.HasPrefix(ref, "#/$defs/") {
		return node
	}
	defs, _ := root["$defs"].(map[string]any)
	if target, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any); ok {
		return target
	}
	return node
}

// leafTypes lists the JSON types a leaf accepts, most specific first, so
// that "8" becomes an integer where an integer is allowed.
func leafTypes(root, node map[string]any) []string {
	var types []string
	switch typ := node["type"].(type) {
	case string:
		types = append(types, typ)
	case []any:
		for _, item := range typ {
			if name, ok := item.(string); ok && name != "null" {
				types = append(types, name)
			}
		}
	}
	if branches, ok := node["anyOf"].([]any); ok {
		for _, branch := range branches {
			if branchNode, ok := branch.(map[string]any); ok {
				types = append(types, leafTypes(root, resolveRef(root, branchNode))...)
			}
		}
	}
	if len(types) == 0 {
		types = []string{"string"}
	}
	order := map[string]int{"boolean": 0, "integer": 1, "number": 2, "array": 3, "object": 4, "string": 5}
	slices.SortStableFunc(types, func(a, b string) int { return order[a] - order[b] })
	return slices.Compact(types)
}

func withArticle(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
