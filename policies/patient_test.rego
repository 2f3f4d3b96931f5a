package healthhub.patient_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

patient_subject := {
	"id": "Patient/p1",
	"roles": ["patient"],
	"tenant": "north",
	"patient": "Patient/p1",
	"scopes": ["patient/*.rs"],
	"purpose_of_use": "PATRQT",
}

test_patient_reads_own_observation if {
	d := decision with input as fixtures.request(patient_subject, "read", fixtures.observation)
	d.allow
}

test_patient_reads_own_patient_resource if {
	resource := {"type": "Patient", "id": "p1", "tenant": "north"}
	d := decision with input as fixtures.request(patient_subject, "read", resource)
	d.allow
}

test_patient_denied_other_patient if {
	resource := object.union(fixtures.observation, {"patient": "Patient/p2"})
	d := decision with input as fixtures.request(patient_subject, "read", resource)
	not d.allow
	"patient.not_own_record" in fixtures.codes(d)
}

test_patient_denied_other_patient_resource if {
	resource := {"type": "Patient", "id": "p2", "tenant": "north"}
	d := decision with input as fixtures.request(patient_subject, "read", resource)
	not d.allow
	"patient.not_own_record" in fixtures.codes(d)
}

test_patient_without_identity_denied if {
	subject := json.remove(patient_subject, ["patient"])
	resource := object.union(fixtures.observation, {"patient": ""})
	d := decision with input as fixtures.request(subject, "read", resource)
	not d.allow
	"patient.not_own_record" in fixtures.codes(d)
}

test_patient_cannot_update_observation if {
	subject := object.union(patient_subject, {"scopes": ["patient/*.cruds"]})
	d := decision with input as fixtures.request(subject, "update", fixtures.observation)
	not d.allow
	"access.no_role" in fixtures.codes(d)
}

test_patient_writes_questionnaire_response if {
	subject := object.union(patient_subject, {"scopes": ["patient/QuestionnaireResponse.cu"]})
	resource := object.union(fixtures.observation, {"type": "QuestionnaireResponse"})
	d := decision with input as fixtures.request(subject, "create", resource)
	d.allow
}
