// Package schemas holds the JSON Schema documents the hub validates payloads
// against, embedded in the binary as defaults.
//
// The tree of FS:
//
//   - fhir/: one FHIR-like schema (draft 2020-12) per resource type the hub
//     handles, such as fhir/Patient.schema.json, and fhir/datatypes.schema.json
//     with every datatype they refer to. They are generated from the official
//     FHIR R4 JSON Schema by internal/fhirgen (run go generate here), and use
//     two keywords of the hub's own, fhirChoice and fhirResource, that
//     core/schema implements.
//   - hub/: the request schemas of the hub operations (chat, transcription,
//     imaging analysis).
//   - fhir-r4/fhir.schema.json: the official FHIR R4 4.0.1 JSON Schema
//     (draft-06), which strict validation uses; see fhir-r4/PROVENANCE.md.
//
// A schema directory given to core/schema mirrors this tree: a file there
// replaces the embedded file of the same path, and a new file adds a type.
package schemas
