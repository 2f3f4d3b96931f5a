package schemas

import "embed"

//go:generate go run ./internal/fhirgen -in fhir-r4/fhir.schema.json -out fhir

// FS contains the embedded schema documents, rooted at this directory:
// fhir/, hub/ and fhir-r4/.
//
//go:embed fhir/*.schema.json hub/*.schema.json fhir-r4/fhir.schema.json
var FS embed.FS

// Paths of the documents in FS that code refers to by name.
const (
	// DatatypesPath is the schema of the FHIR datatypes.
	DatatypesPath = "fhir/datatypes.schema.json"
	// OfficialR4Path is the official FHIR R4 JSON Schema.
	OfficialR4Path = "fhir-r4/fhir.schema.json"
	// ChatRequestPath is the schema of a chat request.
	ChatRequestPath = "hub/chat-request.schema.json"
	// TranscriptionRequestPath is the schema of a transcription request.
	TranscriptionRequestPath = "hub/transcription-request.schema.json"
	// ImagingAnalysisRequestPath is the schema of an imaging analysis
	// request.
	ImagingAnalysisRequestPath = "hub/imaging-analysis-request.schema.json"
	// HubCommonPath is the schema of the fields the request schemas share.
	HubCommonPath = "hub/common.schema.json"
)
