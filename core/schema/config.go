package schema

// Config selects the schemas a Validator compiles. The zero value validates
// against the embedded schemas only.
type Config struct {
	// Dir is a directory of schema documents laid out like the embedded
	// tree (see package schemas): fhir/<Type>.schema.json,
	// fhir/datatypes.schema.json and hub/<name>.schema.json. A file there
	// replaces the embedded file of the same path, and a new
	// fhir/<Type>.schema.json adds the resource type <Type>. Refs between
	// documents are relative, so a file in Dir may refer to embedded
	// documents, such as "datatypes.schema.json#/$defs/HumanName".
	// Default: "" (embedded schemas only).
	Dir string `json:"dir,omitempty"`

	// Strict validates FHIR resources against the official FHIR R4 JSON
	// Schema instead of the hub's FHIR-like schemas, and then against the
	// schema of the same type in Dir too when there is one. Strict mode
	// accepts every R4 resource type. The Go invariant checks run in both modes.
	// Default: false.
	Strict bool `json:"strict,omitempty"`

	// Parallelism is the maximum number of goroutines that validate the
	// entries of one Bundle, for bundles of at least 8 entries. Default 0:
	// runtime.GOMAXPROCS. 1 validates every entry on the calling goroutine.
	Parallelism int `json:"parallelism,omitempty"`
}
