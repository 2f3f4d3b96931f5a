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
