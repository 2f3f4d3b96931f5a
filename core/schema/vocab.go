package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/message"
)

// The hub's schemas use two keywords of their own, which this file compiles
// and checks as a jsonschema vocabulary:
//
//	"fhirChoice": {"value[x]": {"variants": ["valueString", "valueQuantity"], "required": true}}
//
// allows at most one variant of each choice element, counting "_valueString"
// as valueString, and with "required" needs one.
//
//	"fhirResource": true
//
// validates a nested resource against the schema of its own resourceType,
// which is how Bundle entries, contained resources and Parameters dispatch.

const vocabularyURL = "urn:healthhub:schema:vocab:fhir"

const vocabularyMetaSchema = `{
	"properties": {
		"fhirChoice": {
			"type": "object",
			"additionalProperties": {
				"type": "object",
				"properties": {
					"variants": {"type": "array", "items": {"type": "string"}, "minItems": 1},
					"required": {"type": "boolean"}
				},
				"required": ["variants"],
				"additionalProperties": false
			}
		},
		"fhirResource": {"const": true}
	}
}`

// dispatchMode selects what the fhirResource keyword does with a nested
// resource of a known type.
type dispatchMode int

const (
	// dispatchValidate validates it against the schema of its type.
	dispatchValidate dispatchMode = iota
	// dispatchCheckType only checks that its type is known, for a caller
	// that validates the nested resources itself, such as concurrently.
	dispatchCheckType
)

// resourceSchemas maps resource types to compiled schemas. The compiler
// fills it before any validation and nothing writes it afterwards, so
// concurrent reads are safe.
type resourceSchemas map[string]*jsonschema.Schema

func newVocabulary(types resourceSchemas, mode dispatchMode) (*jsonschema.Vocabulary, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(vocabularyMetaSchema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(vocabularyURL, doc); err != nil {
		return nil, err
	}
	meta, err := c.Compile(vocabularyURL)
	if err != nil {
		return nil, err
	}
	return &jsonschema.Vocabulary{
		URL:    vocabularyURL,
		Schema: meta,
		Compile: func(_ *jsonschema.CompilerContext, obj map[string]any) (jsonschema.SchemaExt, error) {
			return compileKeywords(obj, types, mode), nil
		},
	}, nil
}

func compileKeywords(obj map[string]any, types resourceSchemas, mode dispatchMode) jsonschema.SchemaExt {
	ext := keywords{mode: mode}
	if choices, ok := obj["fhirChoice"].(map[string]any); ok {
		for name, raw := range choices {
			spec := raw.(map[string]any) // shape checked by the meta-schema
			c := choice{name: name}
			for _, v := range spec["variants"].([]any) {
				c.variants = append(c.variants, v.(string))
			}
			c.required, _ = spec["required"].(bool)
			ext.choices = append(ext.choices, c)
		}
		sort.Slice(ext.choices, func(i, j int) bool { return ext.choices[i].name < ext.choices[j].name })
	}
	if b, _ := obj["fhirResource"].(bool); b {
		ext.resources = types
	}
	if ext.choices == nil && ext.resources == nil {
		return nil
	}
	return &ext
}

type choice struct {
	name     string
	variants []string
	required bool
}

type keywords struct {
	choices   []choice
	resources resourceSchemas
	mode      dispatchMode
}

func (k *keywords) Validate(ctx *jsonschema.ValidatorContext, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, c := range k.choices {
		checkChoice(ctx, obj, c)
	}
	if k.resources != nil {
		k.validateResource(ctx, obj)
	}
}

func checkChoice(ctx *jsonschema.ValidatorContext, obj map[string]any, c choice) {
	var present []string
	for _, variant := range c.variants {
		_, value := obj[variant]
		_, ext := obj["_"+variant]
		if value || ext {
			present = append(present, variant)
		}
	}
	switch {
	case len(present) > 1:
		ctx.AddError(&ChoiceConflict{Element: c.name, Present: present})
	case len(present) == 0 && c.required:
		ctx.AddError(&ChoiceMissing{Element: c.name, Variants: c.variants})
	}
}

func (k *keywords) validateResource(ctx *jsonschema.ValidatorContext, obj map[string]any) {
	raw, ok := obj["resourceType"]
	if !ok {
		ctx.AddError(&ResourceTypeMissing{})
		return
	}
	rt, ok := raw.(string)
	if !ok {
		ctx.AddError(&ResourceTypeMissing{NotString: true})
		return
	}
	sch, ok := k.resources[rt]
	if !ok {
		ctx.AddError(&UnknownResourceType{Type: rt, Known: k.resources.names()})
		return
	}
	if k.mode == dispatchCheckType {
		return
	}
	if err := ctx.Validate(sch, obj, nil); err != nil {
		ctx.AddErr(err)
	}
}

func (r resourceSchemas) names() []string {
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ChoiceConflict is the error kind of an object with more than one variant
// of a choice element, such as both valueString and valueQuantity.
type ChoiceConflict struct {
	Element string
	Present []string
}

// KeywordPath returns the keyword that raised the error.
func (*ChoiceConflict) KeywordPath() []string { return []string{"fhirChoice"} }

// LocalizedString returns the diagnostic.
func (k *ChoiceConflict) LocalizedString(*message.Printer) string {
	return fmt.Sprintf("choice element %s has %d variants, %s; keep only one", k.Element, len(k.Present), strings.Join(k.Present, " and "))
}

// ChoiceMissing is the error kind of an object without any variant of a
// required choice element.
type ChoiceMissing struct {
	Element  string
	Variants []string
}

// KeywordPath returns the keyword that raised the error.
func (*ChoiceMissing) KeywordPath() []string { return []string{"fhirChoice"} }

// LocalizedString returns the diagnostic.
func (k *ChoiceMissing) LocalizedString(*message.Printer) string {
	return fmt.Sprintf("missing required element %s; add one of %s", k.Element, strings.Join(k.Variants, ", "))
}

// ResourceTypeMissing is the error kind of a nested resource without a
// string resourceType.
type ResourceTypeMissing struct {
	NotString bool
}

// KeywordPath returns the keyword that raised the error.
func (*ResourceTypeMissing) KeywordPath() []string { return []string{"fhirResource"} }

// LocalizedString returns the diagnostic.
func (k *ResourceTypeMissing) LocalizedString(*message.Printer) string {
	if k.NotString {
		return "resourceType must be a string naming the resource type, such as \"Patient\""
	}
	return "missing resourceType; a resource names its type, such as \"resourceType\": \"Patient\""
}

// UnknownResourceType is the error kind of a resource whose type has no
// schema.
type UnknownResourceType struct {
	Type  string
	Known []string
}

// KeywordPath returns the keyword that raised the error.
func (*UnknownResourceType) KeywordPath() []string { return []string{"fhirResource"} }

// LocalizedString returns the diagnostic.
func (k *UnknownResourceType) LocalizedString(*message.Printer) string {
	return unknownTypeMessage(k.Type, k.Known)
}

// unknownTypeMessage words the issue of a resource type without a schema. It
// lists the known types when they are few and suggests a close name.
func unknownTypeMessage(rt string, known []string) string {
	msg := fmt.Sprintf("unknown resource type %q", rt)
	if best := closest(rt, known); best != "" {
		return msg + fmt.Sprintf("; did you mean %q?", best)
	}
	if len(known) <= 30 {
		return msg + fmt.Sprintf("; the hub validates %s; add a schema for it to the schema directory", strings.Join(known, ", "))
	}
	return msg + fmt.Sprintf("; it is none of the %d types this validator knows; check the spelling or add a schema for it to the schema directory", len(known))
}
