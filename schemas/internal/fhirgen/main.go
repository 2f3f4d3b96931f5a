// Command fhirgen writes the hub's FHIR-like JSON Schemas (draft 2020-12)
// from the official FHIR R4 JSON Schema (draft-06).
//
// It keeps the element names, array shapes, descriptions, required complex
// elements and code value sets of the official schema, and changes what the
// hub needs changed:
//
//   - every definition is a closed object ("additionalProperties": false);
//   - primitives are checked by the hub's "fhir-*" formats in Go, which give
//     a diagnostic per failure, instead of regular expressions;
//   - required primitive elements and choice elements ([x]), which the
//     official schema cannot express, come from tables.go: a choice element
//     gets the "fhirChoice" keyword that allows at most one variant;
//   - a nested resource (contained, Bundle.entry.resource, Parameters) is a
//     "Resource", which the "fhirResource" keyword validates against the
//     schema of its own resourceType.
//
// Run it with go generate in the schemas directory.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// resourceTypes are the resource types the hub ships schemas for.
var resourceTypes = []string{
	"Appointment", "AuditEvent", "Binary", "Bundle", "Claim", "Condition",
	"Consent", "Coverage", "Device", "DiagnosticReport", "DocumentReference",
	"Encounter", "ExplanationOfBenefit", "ImagingStudy", "Immunization",
	"Location", "Media", "MedicationRequest", "Observation", "OperationOutcome",
	"Organization", "Parameters", "Patient", "Practitioner",
	"PractitionerRole", "Procedure", "Provenance", "ServiceRequest",
}

const (
	schemaDialect = "https://json-schema.org/draft/2020-12/schema"
	datatypesFile = "datatypes.schema.json"
)

type choiceElement struct {
	name     string
	variants []string
	required bool
}

func main() {
	in := flag.String("in", "fhir-r4/fhir.schema.json", "official FHIR R4 JSON Schema to read")
	out := flag.String("out", "fhir", "directory to write the schemas into")
	flag.Parse()

	official, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	files, err := generate(official)
	if err != nil {
		log.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// generator holds the official definitions and what has been decided about
// them while writing the files.
type generator struct {
	defs *object
	// owner maps each definition to the file that defines it.
	owner map[string]string
}

// generate returns the generated files by name.
func generate(official []byte) (map[string][]byte, error) {
	root, err := parseOrdered(official)
	if err != nil {
		return nil, fmt.Errorf("parse official schema: %w", err)
	}
	rootObj, ok := root.(*object)
	if !ok || rootObj.object("definitions") == nil {
		return nil, fmt.Errorf("parse official schema: no definitions")
	}
	g := &generator{defs: rootObj.object("definitions"), owner: map[string]string{}}
	if err := g.assignOwners(); err != nil {
		return nil, err
	}

	files := map[string][]byte{}
	for _, rt := range resourceTypes {
		data, err := g.resourceFile(rt)
		if err != nil {
			return nil, err
		}
		files[rt+".schema.json"] = data
	}
	data, err := g.datatypesFile()
	if err != nil {
		return nil, err
	}
	files[datatypesFile] = data
	return files, nil
}

// assignOwners walks the definitions reachable from the resource types and
// decides for each whether it lives in a resource file (its backbone
// elements, such as Patient_Contact) or in the datatypes file.
func (g *generator) assignOwners() error {
	isResource := map[string]bool{}
	for _, rt := range resourceTypes {
		isResource[rt] = true
	}
	queue := append([]string(nil), resourceTypes...)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, seen := g.owner[name]; seen || name == "ResourceList" {
			continue
		}
		def := g.defs.object(name)
		if def == nil {
			return fmt.Errorf("definition %q not found in the official schema", name)
		}
		prefix, _, _ := strings.Cut(name, "_")
		switch {
		case isResource[prefix]:
			g.owner[name] = prefix + ".schema.json"
		default:
			g.owner[name] = datatypesFile
		}
		queue = append(queue, refsOf(def)...)
	}
	return nil
}

// refsOf lists the definition names a definition refers to.
func refsOf(v any) []string {
	var refs []string
	switch v := v.(type) {
	case *object:
		for _, k := range v.keys {
			if k == "$ref" {
				if s, ok := v.values[k].(string); ok {
					refs = append(refs, strings.TrimPrefix(s, "#/definitions/"))
				}
				continue
			}
			refs = append(refs, refsOf(v.values[k])...)
		}
	case []any:
		for _, item := range v {
			refs = append(refs, refsOf(item)...)
		}
	}
	return refs
}

func (g *generator) resourceFile(rt string) ([]byte, error) {
	file := rt + ".schema.json"
	doc := newObject()
	doc.set("$schema", schemaDialect)
	doc.set("title", rt)
	doc.set("description", g.defs.object(rt).str("description"))
	body, err := g.definition(rt, file)
	if err != nil {
		return nil, err
	}
	for _, k := range body.keys {
		if k != "description" {
			doc.set(k, body.values[k])
		}
	}

	defs := newObject()
	for _, name := range g.ownedBy(file) {
		if name == rt {
			continue
		}
		def, err := g.definition(name, file)
		if err != nil {
			return nil, err
		}
		defs.set(name, def)
	}
	if len(defs.keys) > 0 {
		doc.set("$defs", defs)
	}
	return render(doc)
}

func (g *generator) datatypesFile() ([]byte, error) {
	doc := newObject()
	doc.set("$schema", schemaDialect)
	doc.set("title", "FHIR R4 datatypes")
	doc.set("description", "The FHIR R4 primitive and complex datatypes that the hub's resource schemas refer to, each defined once. Generated from the FHIR R4 4.0.1 JSON Schema by schemas/internal/fhirgen.")
	defs := newObject()
	for _, p := range primitives {
		def := newObject()
		def.set("description", g.defs.object(p.name).str("description"))
		def.set("type", p.jsonType)
		if p.format != "" {
			def.set("format", p.format)
		}
		defs.set(p.name, def)
	}
	defs.set("Resource", newObject().
		set("description", "A resource nested in another one (contained, Bundle.entry.resource, Parameters.parameter.resource). It is validated against the schema of its own resourceType.").
		set("type", "object").
		set("fhirResource", true))
	defs.set("NullableElement", g.nullableElement())

	for _, name := range g.ownedBy(datatypesFile) {
		if isPrimitive(name) {
			continue
		}
		def, err := g.definition(name, datatypesFile)
		if err != nil {
			return nil, err
		}
		defs.set(name, def)
	}
	doc.set("$defs", defs)
	return render(doc)
}

// nullableElement is Element that may also be null: the FHIR JSON form of a
// primitive array puts null in the "_name" array where a value has no id or
// extension.
//
// NOTE: the value array itself rejects null, as the official schema does,
// although FHIR JSON allows null there for a value that has only an
// extension.
func (g *generator) nullableElement() *object {
	def := newObject()
	def.set("description", "Extensions of one value of a primitive array, or null when that value has none.")
	def.set("type", []any{"object", "null"})
	def.set("properties", newObject().
		set("id", newObject().set("$ref", "#/$defs/string")).
		set("extension", newObject().set("type", "array").set("items", newObject().set("$ref", "#/$defs/Extension"))))
	def.set("additionalProperties", false)
	return def
}

func (g *generator) ownedBy(file string) []string {
	var names []string
	for name, owner := range g.owner {
		if owner == file {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// definition converts one official complex-type definition, with refs
// written relative to the file it goes into.
func (g *generator) definition(name, file string) (*object, error) {
	src := g.defs.object(name)
	props := src.object("properties")
	if props == nil {
		return nil, fmt.Errorf("definition %q has no properties", name)
	}
	choices := choiceElements[name]
	variantOf := map[string]string{}
	for _, c := range choices {
		for _, v := range c.variants {
			variantOf[v] = strings.TrimSuffix(c.name, "[x]")
		}
	}

	def := newObject()
	def.set("description", src.str("description"))
	def.set("type", "object")
	outProps := newObject()
	for _, pname := range props.keys {
		prop, err := g.property(name, pname, props.object(pname), variantOf, file)
		if err != nil {
			return nil, err
		}
		outProps.set(pname, prop)
	}
	def.set("properties", outProps)
	if required := g.required(name, src); len(required) > 0 {
		def.set("required", required)
	}
	def.set("additionalProperties", false)
	if len(choices) > 0 {
		def.set("fhirChoice", choiceKeyword(choices))
	}
	if name == "ContactPoint" {
		addEmailRule(def)
	}
	return def, nil
}

func (g *generator) required(name string, src *object) []any {
	var required []any
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			required = append(required, s)
		}
	}
	if list, ok := src.get("required"); ok {
		for _, r := range list.([]any) {
			add(r.(string))
		}
	}
	for _, r := range requiredPrimitives[name] {
		add(r)
	}
	return required
}

// addEmailRule asserts the standard "email" format on ContactPoint.value
// when ContactPoint.system is email.
func addEmailRule(def *object) {
	def.set("if", newObject().
		set("properties", newObject().set("system", newObject().set("const", "email"))).
		set("required", []any{"system"}))
	def.set("then", newObject().
		set("properties", newObject().set("value", newObject().set("format", "email"))))
}

func choiceKeyword(choices []choiceElement) *object {
	kw := newObject()
	for _, c := range choices {
		entry := newObject()
		variants := make([]any, len(c.variants))
		for i, v := range c.variants {
			variants[i] = v
		}
		entry.set("variants", variants)
		if c.required {
			entry.set("required", true)
		}
		kw.set(c.name, entry)
	}
	return kw
}

// property converts one element of a definition.
func (g *generator) property(defName, pname string, src *object, variantOf map[string]string, file string) (*object, error) {
	out := newObject()
	if d := src.str("description"); d != "" {
		out.set("description", d)
	}
	if c, ok := src.get("const"); ok {
		out.set("const", c)
		return out, nil
	}
	if enum, ok := src.get("enum"); ok {
		out.set("enum", enum)
		return out, nil
	}
	if src.str("type") == "array" {
		items := src.object("items")
		if items == nil {
			return nil, fmt.Errorf("%s.%s: array without items", defName, pname)
		}
		item, err := g.property(defName, pname, items, variantOf, file)
		if err != nil {
			return nil, err
		}
		delete(item.values, "description")
		item.keys = without(item.keys, "description")
		if strings.HasPrefix(pname, "_") {
			item = newObject().set("$ref", g.refTo("NullableElement", file))
		}
		out.set("type", "array")
		out.set("items", item)
		return out, nil
	}
	if ref := src.str("$ref"); ref != "" {
		target := strings.TrimPrefix(ref, "#/definitions/")
		if target == "ResourceList" {
			target = "Resource"
		}
		if isPrimitive(target) {
			return inlinePrimitive(out, target), nil
		}
		out.set("$ref", g.refTo(target, file))
		return out, nil
	}
	if _, ok := src.get("pattern"); ok || src.str("type") != "" {
		// The official schema writes the primitive variants of a choice
		// element inline; the variant's suffix names the type.
		group, ok := variantOf[pname]
		if !ok {
			return nil, fmt.Errorf("%s.%s: inline primitive outside a choice element", defName, pname)
		}
		suffix := strings.TrimPrefix(pname, group)
		typeName := strings.ToLower(suffix[:1]) + suffix[1:]
		if !isPrimitive(typeName) {
			return nil, fmt.Errorf("%s.%s: unknown primitive type %q", defName, pname, typeName)
		}
		return inlinePrimitive(out, typeName), nil
	}
	if pname == "div" {
		return inlinePrimitive(out, "xhtml"), nil
	}
	return nil, fmt.Errorf("%s.%s: unsupported property shape", defName, pname)
}

func (g *generator) refTo(target, file string) string {
	owner := datatypesFile
	if o, ok := g.owner[target]; ok {
		owner = o
	}
	if owner == file {
		return "#/$defs/" + target
	}
	return owner + "#/$defs/" + target
}

func without(keys []string, key string) []string {
	out := keys[:0:0]
	for _, k := range keys {
		if k != key {
			out = append(out, k)
		}
	}
	return out
}

func render(doc *object) ([]byte, error) {
	var compact bytes.Buffer
	if err := writeJSON(&compact, doc); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := indentJSON(&out, compact.Bytes()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
