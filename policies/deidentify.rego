# De-identification: the obligations that strip a payload of what identifies
# a patient, after the HIPAA Safe Harbor list (45 CFR 164.514(b)(2)): names,
# contact details and addresses are removed, identifiers are replaced by
# pseudonyms that are random tokens (allowed as re-identification codes by
# 45 CFR 164.514(c)), every date is cut to its year and free text is scrubbed
# of names, numbers and dates.
#
# Paths are FHIRPath-like: a resource type (or Resource for every type)
# followed by element names; descendants() stands for every element below,
# and extension('url') for the extensions with that url.
package healthhub.deidentify

person_types := ["Patient", "RelatedPerson", "Person"]

person_elements := ["name", "telecom", "address", "photo", "contact"]

remove_paths := {path |
	some type in person_types
	some element in person_elements
	path := concat(".", [type, element])
} | {
	"Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName')",
	"Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-birthPlace')",
	"Resource.subject.display",
	"Resource.patient.display",
	"Resource.beneficiary.display",
}

pseudonymize_paths := {
	"Resource.identifier",
	"Patient.id",
	"RelatedPerson.id",
	"Person.id",
}

# Reference displays anywhere in a resource may name the patient, as
# Appointment.participant.actor.display does; scrubbing every display keeps
# the code displays a reader needs.
scrub_paths := {
	"Resource.descendants().display",
	"Resource.text.div",
	"Resource.note.text",
	"DiagnosticReport.conclusion",
	"DocumentReference.description",
	"DocumentReference.content.attachment",
	"Communication.payload.contentString",
	"Observation.valueString",
}

# obligations(rule, replace) is the de-identification set, attributed to
# rule. replace is how free text is scrubbed: "redact" puts a category
# marker such as [NAME] in place of what it finds, "pseudonymize" a token
# that the hub can map back.
obligations(rule, replace) := {
	"remove": {{"path": path, "rule": rule} | some path in remove_paths},
	"pseudonymize": {{"path": path, "rule": rule} | some path in pseudonymize_paths},
	"generalize_dates": {{"path": "Resource.descendants()", "precision": "year", "rule": rule}},
	"scrub_text": {{"path": path, "rule": rule, "replace": replace} | some path in scrub_paths},
}
