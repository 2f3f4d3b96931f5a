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

# remove_paths are the names, contact details, photos and addresses of the
# Patient, RelatedPerson and Person resources, the Patient extensions that
# identify (mother's maiden name, birth place) and the displays of the
# references to the patient.
remove_paths := {
	"Patient.name",
	"Patient.telecom",
	"Patient.address",
	"Patient.photo",
	"Patient.contact",
	"RelatedPerson.name",
	"RelatedPerson.telecom",
	"RelatedPerson.address",
	"RelatedPerson.photo",
	"RelatedPerson.contact",
	"Person.name",
	"Person.telecom",
	"Person.address",
	"Person.photo",
	"Person.contact",
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
