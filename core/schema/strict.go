package schema

import (
	"fmt"
	"strings"

	"github.com/healthhub/healthhub/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const officialURL = baseURL + schemas.OfficialR4Path

// Patterns of the official FHIR R4 JSON Schema that strict mode rewrites.
// The first two are upstream bugs: without a group around the alternation,
// "^[0]|([1-9][0-9]*)$" matches any text that starts with 0 or ends with a
// digit, and "^true|false$" any text that starts with true or ends with
// false. Neither pattern ever runs, because JSON Schema applies pattern
// only to strings and these definitions are typed number and boolean. They
// are fixed anyway, so that no reuse of the definitions inherits the bug.
//
// The same typing also means the official schema never checks that an
// integer, unsignedInt or positiveInt is whole or in range: 1.5 and -3 pass
// as positiveInt. Strict mode adds the hub's integer formats there, so it
// stays at least as strict as the default mode.
var officialPatternFixes = map[string]struct{ pattern, format string }{
	"^[0]|([1-9][0-9]*)$":     {`^(0|[1-9][0-9]*)$`, "fhir-unsignedInt"},
	"^true|false$":            {`^(true|false)$`, ""},
	"^-?([0]|([1-9][0-9]*))$": {`^-?([0]|([1-9][0-9]*))$`, "fhir-integer"},
	"^[1-9][0-9]*$":           {`^[1-9][0-9]*$`, "fhir-positiveInt"},
}

// officialPatternTypes maps the patterns of the official schema to the FHIR
// type they check. The official schema writes the primitive variants of a
// choice element inline, so a pattern is the only sign of their type.
// Types that share a pattern map to the most general one.
var officialPatternTypes = map[string]string{
	`^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`: "dateTime",
	`^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`:                                                                                                         "date",
	`^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`:          "instant",
	`^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$`: "time",
	`^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$`:                            "base64Binary",
	`^[ \r\n\t\S]+$`:                                             "string",
	`^[A-Za-z0-9\-\.]{1,64}$`:                                    "id",
	`^[^\s]+(\s[^\s]+)*$`:                                        "code",
	`^\S*$`:                                                      "uri",
	`^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`:                        "oid",
	`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`: "uuid",
}

// compileStrict compiles every resource type of the official FHIR R4 JSON
// Schema. A type with a schema in profiles (from the schema directory) must
// pass both.
func (c *compiled) compileStrict(compiler *jsonschema.Compiler, profiles map[string]string) error {
	data, err := schemas.FS.ReadFile(schemas.OfficialR4Path)
	if err != nil {
		return fmt.Errorf("compile strict schemas: %w", err)
	}
	doc, err := Parse(data)
	if err != nil {
		return fmt.Errorf("compile strict schemas: %w", err)
	}
	types, err := patchOfficial(doc)
	if err != nil {
		return err
	}
	if err := compiler.AddResource(officialURL, doc); err != nil {
		return fmt.Errorf("compile strict schemas: %w", err)
	}
	c.docs[officialURL] = doc

	for _, rt := range types {
		u := officialURL + "#/definitions/" + rt
		if profile, ok := profiles[rt]; ok {
			u, err = c.addProfile(compiler, rt, u, profile)
			if err != nil {
				return err
			}
		}
		if c.resources[rt], err = compiler.Compile(u); err != nil {
			return fmt.Errorf("compile strict schemas: %s: %w", rt, err)
		}
		c.urls[rt] = u
	}
	for rt, profile := range profiles {
		if _, ok := c.resources[rt]; ok {
			continue
		}
		if c.resources[rt], err = compiler.Compile(profile); err != nil {
			return fmt.Errorf("compile strict schemas: %s: %w", rt, err)
		}
		c.urls[rt] = profile
	}
	return nil
}

// addProfile registers a schema that requires both the official definition
// and the directory's schema of a type, and returns its URL.
func (c *compiled) addProfile(compiler *jsonschema.Compiler, rt, official, profile string) (string, error) {
	u := baseURL + "strict/" + rt + schemaSuffix
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"allOf": []any{
			map[string]any{"$ref": official},
			map[string]any{"$ref": profile},
		},
	}
	if err := compiler.AddResource(u, doc); err != nil {
		return "", fmt.Errorf("compile strict schemas: profile of %s: %w", rt, err)
	}
	c.docs[u] = doc
	return u, nil
}

// patchOfficial adapts the official schema for per-type compilation and
// returns its resource types:
//   - the top-level oneOf over all 146 types and its discriminator go, since
//     the validator dispatches on resourceType itself;
//   - ResourceList, the same oneOf where resources nest, becomes the
//     fhirResource keyword, so one real error is not buried under one
//     failure per resource type;
//   - the draft-06 "id" goes, so that the document keeps the URL it is added
//     under and issue lookups find it;
//   - the patterns in officialPatternFixes are rewritten.
func patchOfficial(doc any) ([]string, error) {
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("compile strict schemas: official schema is not an object")
	}
	disc, _ := root["discriminator"].(map[string]any)
	mapping, _ := disc["mapping"].(map[string]any)
	defs, _ := root["definitions"].(map[string]any)
	if len(mapping) == 0 || defs == nil {
		return nil, fmt.Errorf("compile strict schemas: official schema has no discriminator mapping or definitions")
	}
	types := sortedKeys(mapping)

	delete(root, "oneOf")
	delete(root, "discriminator")
	delete(root, "id")
	defs["ResourceList"] = map[string]any{"type": "object", "fhirResource": true}
	fixPatterns(defs)
	return types, nil
}

func fixPatterns(v any) {
	switch v := v.(type) {
	case map[string]any:
		if p, ok := v["pattern"].(string); ok {
			if fix, ok := officialPatternFixes[p]; ok {
				v["pattern"] = fix.pattern
				if fix.format != "" && v["type"] == "number" {
					v["format"] = fix.format
				}
			}
		}
		for _, child := range v {
			fixPatterns(child)
		}
	case []any:
		for _, child := range v {
			fixPatterns(child)
		}
	}
}

// isOfficialURL reports whether a schema location is in the official schema.
func isOfficialURL(u string) bool {
	return strings.HasPrefix(u, officialURL)
}
