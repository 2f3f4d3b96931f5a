package healthhub.minimum_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

billing := fixtures.subject({"roles": ["billing"], "purpose_of_use": "HPAYMT"})

claim := object.union(fixtures.observation, {"type": "Claim"})

test_billing_denied_clinical_notes if {
	note := object.union(fixtures.observation, {"type": "DocumentReference"})
	d := decision with input as fixtures.request(billing, "read", note)
	not d.allow
	"minimum.billing_notes" in fixtures.codes(d)
}

test_billing_gets_no_narrative if {
	d := decision with input as fixtures.request(billing, "read", claim)
	d.allow
	d.obligations.remove == {
		{"path": "Resource.note", "rule": "minimum.billing"},
		{"path": "Resource.text", "rule": "minimum.billing"},
	}
}

test_billing_and_clinician_unrestricted if {
	subject := object.union(billing, {"roles": ["billing", "clinician"]})
	d := decision with input as fixtures.request(subject, "read", fixtures.observation)
	d.allow
	not d.obligations.remove
}

test_researcher_sees_deidentified_data if {
	subject := fixtures.subject({"roles": ["researcher"], "purpose_of_use": "HRESCH"})
	consent := fixtures.consent({"type": "permit", "purpose": fixtures.purpose("HRESCH")})
	request := object.union(fixtures.request(subject, "export", fixtures.observation), {"context": {"consents": [consent]}})
	d := decision with input as request
	d.allow
	{"path": "Patient.name", "rule": "minimum.research"} in d.obligations.remove
	{"path": "Resource.identifier", "rule": "minimum.research"} in d.obligations.pseudonymize
	d.obligations.generalize_dates == {{"path": "Resource.descendants()", "precision": "year", "rule": "minimum.research"}}
	every rule in d.obligations.scrub_text {
		rule.replace == "redact"
	}
	d.obligations.reidentify == false
	d.obligations.audit_level == "high"
}
