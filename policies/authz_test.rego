package healthhub.authz_test

import data.healthhub.authz
import data.healthhub.fixtures

test_deny_shape if {
	d := authz.decision with input as fixtures.with_resource({"tenant": "south"})
	d == {
		"allow": false,
		"reasons": {{"code": "tenant.mismatch", "message": "the resource belongs to another tenant"}},
		"obligations": {"audit_level": "standard", "review": false, "reidentify": false},
	}
}

test_export_audited_high if {
	subject := fixtures.subject({"roles": ["admin"]})
	resource := object.union(fixtures.observation, {"type": "Practitioner"})
	d := authz.decision with input as fixtures.request(subject, "export", resource)
	d.allow
	d.obligations.audit_level == "high"
}

test_empty_input_denied if {
	d := authz.decision with input as {}
	not d.allow
	"access.no_role" in fixtures.codes(d)
	"tenant.missing" in fixtures.codes(d)
}

test_malformed_time_denies if {
	d := authz.decision with input as fixtures.with_context({"time": "yesterday"})
	not d.allow
	fixtures.codes(d) == {"request.time"}
}

# A researcher's analysis sent to a provider without a BAA carries the
# obligations of both concerns, each attributed to its rule.
test_obligations_of_two_concerns_merged if {
	subject := fixtures.subject({"roles": ["researcher"], "purpose_of_use": "HRESCH"})
	consent := fixtures.consent({"type": "permit", "purpose": fixtures.purpose("HRESCH")})
	request := object.union(fixtures.request(subject, "analyze", object.union(fixtures.observation, {"type": "ImagingStudy"})), {
		"provider": object.union(fixtures.llm_provider({"egress": true, "region": "us-east-1", "baa": false, "retention_days": 0}), {"kind": "imaging"}),
		"context": {"consents": [consent]},
	})
	d := authz.decision with input as request with data.healthhub.config as {"allowed_regions": ["us-east-1"]}
	d.allow
	{"path": "Patient.name", "rule": "minimum.research"} in d.obligations.remove
	{"path": "Patient.name", "rule": "egress.deidentify"} in d.obligations.remove
	{"path": "Resource.identifier", "rule": "minimum.research"} in d.obligations.pseudonymize
	{"path": "Resource.identifier", "rule": "egress.deidentify"} in d.obligations.pseudonymize
	count(d.obligations.generalize_dates) == 2
	d.obligations.mask == set()
	d.obligations.audit_level == "high"
}

test_single_concern_obligations_keep_every_kind if {
	subject := fixtures.subject({"roles": ["billing"], "purpose_of_use": "HPAYMT"})
	d := authz.decision with input as fixtures.request(subject, "read", object.union(fixtures.observation, {"type": "Claim"}))
	d.allow
	count(d.obligations.remove) == 2
	d.obligations.pseudonymize == set()
	d.obligations.scrub_text == set()
}
