// Package schema validates FHIR resources and hub requests against JSON
// Schemas and reports every failure as an *sdk.Outcome issue with an RFC
// 6901 JSON Pointer, a FHIRPath-like expression and a diagnostic a person
// can act on.
//
// A Validator compiles the schemas once, at New and on Reload: the hub's
// FHIR-like schemas embedded by package schemas, overlaid by a schema
// directory from Config, or in strict mode the official FHIR R4 JSON
// Schema. Nested resources (Bundle entries, contained resources, Parameters)
// are validated against the schema of their own resourceType. After the
// schema pass, Go code checks the FHIR invariants that JSON Schema cannot
// express (ele-1, ext-1, pat-1, obs-6, obs-7, ref-1) and that urn:uuid
// references in a transaction Bundle resolve.
//
// Parse decodes JSON keeping every number's exact text, so decimals and
// large integers never pass through float64.
//
// CompileConfig compiles a plugin's configuration schema with the same
// issue paths.
package schema
