package main

import (
	"bytes"
	"encoding/json"
	"io"
)

// primitive is the check of one FHIR primitive type in the hub's schemas: a
// JSON type and, for most, a format that core/schema registers in Go.
type primitive struct {
	name     string
	jsonType string
	format   string
}

// primitives lists the FHIR R4 primitive types in the order of the
// specification's datatypes page. The url type uses the standard "uri"
// format, because a FHIR url is an absolute URI.
var primitives = []primitive{
	{"boolean", "boolean", ""},
	{"integer", "integer", "fhir-integer"},
	{"string", "string", "fhir-string"},
	{"decimal", "number", "fhir-decimal"},
	{"uri", "string", "fhir-uri"},
	{"url", "string", "uri"},
	{"canonical", "string", "fhir-canonical"},
	{"base64Binary", "string", "fhir-base64Binary"},
	{"instant", "string", "fhir-instant"},
	{"date", "string", "fhir-date"},
	{"dateTime", "string", "fhir-dateTime"},
	{"time", "string", "fhir-time"},
	{"code", "string", "fhir-code"},
	{"oid", "string", "fhir-oid"},
	{"id", "string", "fhir-id"},
	{"markdown", "string", "fhir-markdown"},
	{"unsignedInt", "integer", "fhir-unsignedInt"},
	{"positiveInt", "integer", "fhir-positiveInt"},
	{"uuid", "string", "fhir-uuid"},
	{"xhtml", "string", "fhir-xhtml"},
}

// inlinePrimitive writes the check of a primitive type into a property
// instead of a $ref to datatypes.schema.json. The library spends about as
// much on following a $ref as on checking the value, and primitives are
// most of the values in a resource, so inlining them makes validation
// markedly faster. The rule of each primitive still lives in one place, the
// Go format its name selects.
func inlinePrimitive(out *object, name string) *object {
	for _, p := range primitives {
		if p.name == name {
			out.set("type", p.jsonType)
			if p.format != "" {
				out.set("format", p.format)
			}
		}
	}
	return out
}

func isPrimitive(name string) bool {
	for _, p := range primitives {
		if p.name == name {
			return true
		}
	}
	return false
}

// indentJSON indents compact JSON by two spaces and ends it with a newline.
func indentJSON(w io.Writer, compact []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(compact), "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
