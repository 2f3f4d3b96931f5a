package main

// The tables below carry facts that the FHIR R4 JSON Schema leaves out. They
// were read from the R4 (4.0.1) StructureDefinitions: the element cardinality
// (min 1) and the choice elements ([x]) with their types. The StructureDefinitions
// used were the ones packaged in the FHIR.js npm package 4.12.0
// (profiles/types.json). Keys are definition names of the FHIR R4 JSON Schema.

// requiredPrimitives lists the elements with cardinality 1.. that the FHIR
// JSON Schema does not mark as required, because their type is primitive.
var requiredPrimitives = map[string][]string{
	"Annotation":                          {"text"},
	"Appointment":                         {"status"},
	"Appointment_Participant":             {"status"},
	"AuditEvent":                          {"recorded"},
	"AuditEvent_Agent":                    {"requestor"},
	"AuditEvent_Detail":                   {"type"},
	"Binary":                              {"contentType"},
	"Bundle":                              {"type"},
	"Bundle_Link":                         {"relation", "url"},
	"Bundle_Request":                      {"method", "url"},
	"Bundle_Response":                     {"status"},
	"Claim":                               {"status", "use", "created"},
	"Claim_Accident":                      {"date"},
	"Claim_CareTeam":                      {"sequence"},
	"Claim_Detail":                        {"sequence"},
	"Claim_Diagnosis":                     {"sequence"},
	"Claim_Insurance":                     {"sequence", "focal"},
	"Claim_Item":                          {"sequence"},
	"Claim_Procedure":                     {"sequence"},
	"Claim_SubDetail":                     {"sequence"},
	"Claim_SupportingInfo":                {"sequence"},
	"Consent":                             {"status"},
	"Consent_Data":                        {"meaning"},
	"Consent_Verification":                {"verified"},
	"Contributor":                         {"type", "name"},
	"Coverage":                            {"status"},
	"Coverage_Class":                      {"value"},
	"DataRequirement":                     {"type"},
	"DataRequirement_Sort":                {"path", "direction"},
	"Device_DeviceName":                   {"name", "type"},
	"Device_Version":                      {"value"},
	"DiagnosticReport":                    {"status"},
	"DocumentReference":                   {"status"},
	"DocumentReference_RelatesTo":         {"code"},
	"Encounter":                           {"status"},
	"Encounter_StatusHistory":             {"status"},
	"ExplanationOfBenefit":                {"status", "use", "created", "outcome"},
	"ExplanationOfBenefit_CareTeam":       {"sequence"},
	"ExplanationOfBenefit_Detail":         {"sequence"},
	"ExplanationOfBenefit_Diagnosis":      {"sequence"},
	"ExplanationOfBenefit_Insurance":      {"focal"},
	"ExplanationOfBenefit_Item":           {"sequence"},
	"ExplanationOfBenefit_Procedure":      {"sequence"},
	"ExplanationOfBenefit_SubDetail":      {"sequence"},
	"ExplanationOfBenefit_SupportingInfo": {"sequence"},
	"Expression":                          {"language"},
	"Extension":                           {"url"},
	"ImagingStudy":                        {"status"},
	"ImagingStudy_Instance":               {"uid"},
	"ImagingStudy_Series":                 {"uid"},
	"Immunization":                        {"status"},
	"Location_Position":                   {"longitude", "latitude"},
	"Media":                               {"status"},
	"MedicationRequest":                   {"status", "intent"},
	"Narrative":                           {"status"},
	"Observation":                         {"status"},
	"OperationOutcome_Issue":              {"severity", "code"},
	"ParameterDefinition":                 {"use", "type"},
	"Parameters_Parameter":                {"name"},
	"Patient_Link":                        {"type"},
	"PractitionerRole_NotAvailable":       {"description"},
	"Procedure":                           {"status"},
	"Provenance":                          {"recorded"},
	"Provenance_Entity":                   {"role"},
	"RelatedArtifact":                     {"type"},
	"SampledData":                         {"period", "dimensions"},
	"ServiceRequest":                      {"status", "intent"},
	"Signature":                           {"when"},
	"TriggerDefinition":                   {"type"},
}

// choiceElements lists the choice elements of each definition: the element
// name with "[x]", its variants, and whether the element is required.
var choiceElements = map[string][]choiceElement{
	"Annotation": {
		{name: "author[x]", variants: []string{"authorReference", "authorString"}, required: false},
	},
	"AuditEvent_Detail": {
		{name: "value[x]", variants: []string{"valueString", "valueBase64Binary"}, required: true},
	},
	"Claim_Accident": {
		{name: "location[x]", variants: []string{"locationAddress", "locationReference"}, required: false},
	},
	"Claim_Diagnosis": {
		{name: "diagnosis[x]", variants: []string{"diagnosisCodeableConcept", "diagnosisReference"}, required: true},
	},
	"Claim_Item": {
		{name: "serviced[x]", variants: []string{"servicedDate", "servicedPeriod"}, required: false},
		{name: "location[x]", variants: []string{"locationCodeableConcept", "locationAddress", "locationReference"}, required: false},
	},
	"Claim_Procedure": {
		{name: "procedure[x]", variants: []string{"procedureCodeableConcept", "procedureReference"}, required: true},
	},
	"Claim_SupportingInfo": {
		{name: "timing[x]", variants: []string{"timingDate", "timingPeriod"}, required: false},
		{name: "value[x]", variants: []string{"valueBoolean", "valueString", "valueQuantity", "valueAttachment", "valueReference"}, required: false},
	},
	"Condition": {
		{name: "onset[x]", variants: []string{"onsetDateTime", "onsetAge", "onsetPeriod", "onsetRange", "onsetString"}, required: false},
		{name: "abatement[x]", variants: []string{"abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString"}, required: false},
	},
	"Consent": {
		{name: "source[x]", variants: []string{"sourceAttachment", "sourceReference"}, required: false},
	},
	"Coverage_CostToBeneficiary": {
		{name: "value[x]", variants: []string{"valueQuantity", "valueMoney"}, required: true},
	},
	"DataRequirement": {
		{name: "subject[x]", variants: []string{"subjectCodeableConcept", "subjectReference"}, required: false},
	},
	"DataRequirement_DateFilter": {
		{name: "value[x]", variants: []string{"valueDateTime", "valuePeriod", "valueDuration"}, required: false},
	},
	"DiagnosticReport": {
		{name: "effective[x]", variants: []string{"effectiveDateTime", "effectivePeriod"}, required: false},
	},
	"Dosage": {
		{name: "asNeeded[x]", variants: []string{"asNeededBoolean", "asNeededCodeableConcept"}, required: false},
	},
	"Dosage_DoseAndRate": {
		{name: "dose[x]", variants: []string{"doseRange", "doseQuantity"}, required: false},
		{name: "rate[x]", variants: []string{"rateRatio", "rateRange", "rateQuantity"}, required: false},
	},
	"ExplanationOfBenefit_Accident": {
		{name: "location[x]", variants: []string{"locationAddress", "locationReference"}, required: false},
	},
	"ExplanationOfBenefit_AddItem": {
		{name: "serviced[x]", variants: []string{"servicedDate", "servicedPeriod"}, required: false},
		{name: "location[x]", variants: []string{"locationCodeableConcept", "locationAddress", "locationReference"}, required: false},
	},
	"ExplanationOfBenefit_Diagnosis": {
		{name: "diagnosis[x]", variants: []string{"diagnosisCodeableConcept", "diagnosisReference"}, required: true},
	},
	"ExplanationOfBenefit_Financial": {
		{name: "allowed[x]", variants: []string{"allowedUnsignedInt", "allowedString", "allowedMoney"}, required: false},
		{name: "used[x]", variants: []string{"usedUnsignedInt", "usedMoney"}, required: false},
	},
	"ExplanationOfBenefit_Item": {
		{name: "serviced[x]", variants: []string{"servicedDate", "servicedPeriod"}, required: false},
		{name: "location[x]", variants: []string{"locationCodeableConcept", "locationAddress", "locationReference"}, required: false},
	},
	"ExplanationOfBenefit_Procedure": {
		{name: "procedure[x]", variants: []string{"procedureCodeableConcept", "procedureReference"}, required: true},
	},
	"ExplanationOfBenefit_SupportingInfo": {
		{name: "timing[x]", variants: []string{"timingDate", "timingPeriod"}, required: false},
		{name: "value[x]", variants: []string{"valueBoolean", "valueString", "valueQuantity", "valueAttachment", "valueReference"}, required: false},
	},
	"Extension": {
		{name: "value[x]", variants: []string{"valueBase64Binary", "valueBoolean", "valueCanonical", "valueCode", "valueDate", "valueDateTime", "valueDecimal", "valueId", "valueInstant", "valueInteger", "valueMarkdown", "valueOid", "valuePositiveInt", "valueString", "valueTime", "valueUnsignedInt", "valueUri", "valueUrl", "valueUuid", "valueAddress", "valueAge", "valueAnnotation", "valueAttachment", "valueCodeableConcept", "valueCoding", "valueContactPoint", "valueCount", "valueDistance", "valueDuration", "valueHumanName", "valueIdentifier", "valueMoney", "valuePeriod", "valueQuantity", "valueRange", "valueRatio", "valueReference", "valueSampledData", "valueSignature", "valueTiming", "valueContactDetail", "valueContributor", "valueDataRequirement", "valueExpression", "valueParameterDefinition", "valueRelatedArtifact", "valueTriggerDefinition", "valueUsageContext", "valueDosage", "valueMeta"}, required: false},
	},
	"Immunization": {
		{name: "occurrence[x]", variants: []string{"occurrenceDateTime", "occurrenceString"}, required: true},
	},
	"Immunization_ProtocolApplied": {
		{name: "doseNumber[x]", variants: []string{"doseNumberPositiveInt", "doseNumberString"}, required: true},
		{name: "seriesDoses[x]", variants: []string{"seriesDosesPositiveInt", "seriesDosesString"}, required: false},
	},
	"Media": {
		{name: "created[x]", variants: []string{"createdDateTime", "createdPeriod"}, required: false},
	},
	"MedicationRequest": {
		{name: "reported[x]", variants: []string{"reportedBoolean", "reportedReference"}, required: false},
		{name: "medication[x]", variants: []string{"medicationCodeableConcept", "medicationReference"}, required: true},
	},
	"MedicationRequest_Substitution": {
		{name: "allowed[x]", variants: []string{"allowedBoolean", "allowedCodeableConcept"}, required: true},
	},
	"Observation": {
		{name: "effective[x]", variants: []string{"effectiveDateTime", "effectivePeriod", "effectiveTiming", "effectiveInstant"}, required: false},
		{name: "value[x]", variants: []string{"valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger", "valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod"}, required: false},
	},
	"Observation_Component": {
		{name: "value[x]", variants: []string{"valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger", "valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod"}, required: false},
	},
	"Parameters_Parameter": {
		{name: "value[x]", variants: []string{"valueBase64Binary", "valueBoolean", "valueCanonical", "valueCode", "valueDate", "valueDateTime", "valueDecimal", "valueId", "valueInstant", "valueInteger", "valueMarkdown", "valueOid", "valuePositiveInt", "valueString", "valueTime", "valueUnsignedInt", "valueUri", "valueUrl", "valueUuid", "valueAddress", "valueAge", "valueAnnotation", "valueAttachment", "valueCodeableConcept", "valueCoding", "valueContactPoint", "valueCount", "valueDistance", "valueDuration", "valueHumanName", "valueIdentifier", "valueMoney", "valuePeriod", "valueQuantity", "valueRange", "valueRatio", "valueReference", "valueSampledData", "valueSignature", "valueTiming", "valueContactDetail", "valueContributor", "valueDataRequirement", "valueExpression", "valueParameterDefinition", "valueRelatedArtifact", "valueTriggerDefinition", "valueUsageContext", "valueDosage", "valueMeta"}, required: false},
	},
	"Patient": {
		{name: "deceased[x]", variants: []string{"deceasedBoolean", "deceasedDateTime"}, required: false},
		{name: "multipleBirth[x]", variants: []string{"multipleBirthBoolean", "multipleBirthInteger"}, required: false},
	},
	"Procedure": {
		{name: "performed[x]", variants: []string{"performedDateTime", "performedPeriod", "performedString", "performedAge", "performedRange"}, required: false},
	},
	"Provenance": {
		{name: "occurred[x]", variants: []string{"occurredPeriod", "occurredDateTime"}, required: false},
	},
	"ServiceRequest": {
		{name: "quantity[x]", variants: []string{"quantityQuantity", "quantityRatio", "quantityRange"}, required: false},
		{name: "occurrence[x]", variants: []string{"occurrenceDateTime", "occurrencePeriod", "occurrenceTiming"}, required: false},
		{name: "asNeeded[x]", variants: []string{"asNeededBoolean", "asNeededCodeableConcept"}, required: false},
	},
	"Timing_Repeat": {
		{name: "bounds[x]", variants: []string{"boundsDuration", "boundsRange", "boundsPeriod"}, required: false},
	},
	"TriggerDefinition": {
		{name: "timing[x]", variants: []string{"timingTiming", "timingReference", "timingDate", "timingDateTime"}, required: false},
	},
	"UsageContext": {
		{name: "value[x]", variants: []string{"valueCodeableConcept", "valueQuantity", "valueRange", "valueReference"}, required: true},
	},
}
