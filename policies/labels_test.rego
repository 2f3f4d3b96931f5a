package healthhub.labels_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

labelled(codes, consents) := object.union(
	fixtures.with_resource({"security_labels": [fixtures.label(code) | some code in codes]}),
	{"context": {"consents": consents}},
)

psy_consent := fixtures.consent({"type": "permit", "securityLabel": [fixtures.label("PSY")]})

test_sensitive_label_denied if {
	d := decision with input as labelled(["PSY"], [])
	not d.allow
	fixtures.codes(d) == {"labels.sensitive"}
	d.obligations.audit_level == "high"
}

test_label_covered_by_consent if {
	d := decision with input as labelled(["PSY"], [psy_consent])
	d.allow
	"labels.consented" in fixtures.codes(d)
	d.obligations.audit_level == "high"
}

test_consent_for_other_label if {
	d := decision with input as labelled(["PSY", "ETH"], [psy_consent])
	not d.allow
	some r in d.reasons
	r.message == "label ETH needs a Consent that covers it"
}

test_consent_for_other_purpose if {
	consent := fixtures.consent({"type": "permit", "securityLabel": [fixtures.label("PSY")], "purpose": fixtures.purpose("HPAYMT")})
	d := decision with input as labelled(["PSY"], [consent])
	not d.allow
}

test_plain_labels_allowed if {
	d := decision with input as labelled(["N", "R"], [])
	d.allow
	d.obligations.audit_level == "standard"
}

test_break_glass_overrides_label if {
	request := object.union(labelled(["ETH"], []), {"subject": {"break_glass": fixtures.break_glass}})
	d := decision with input as request
	d.allow
	"labels.break_glass" in fixtures.codes(d)
}

test_configured_labels if {
	d := decision with input as labelled(["R"], [])
		with data.healthhub.config as {"sensitive_labels": ["R"]}
	not d.allow
	decision.allow with input as labelled(["PSY"], []) with data.healthhub.config as {"sensitive_labels": ["R"]}
}
