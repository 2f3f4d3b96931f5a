package healthhub.access_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

test_clinician_reads_observation if {
	d := decision with input as fixtures.clinician_read
	d.allow
	fixtures.codes(d) == {"access.role"}
	d.obligations == {"audit_level": "standard", "review": false, "reidentify": false}
}

test_role_permissions if {
	every case in [
		["clinician", "update", "Condition", true],
		["clinician", "delete", "Observation", false],
		["clinician", "export", "Observation", false],
		["nurse", "read", "Condition", true],
		["nurse", "create", "Observation", true],
		["nurse", "update", "Condition", false],
		["admin", "delete", "Practitioner", true],
		["admin", "read", "Observation", false],
		["billing", "update", "Claim", true],
		["billing", "read", "Encounter", true],
		["billing", "update", "Encounter", false],
		["service", "read", "Basic", true],
		["service", "delete", "Observation", false],
		["janitor", "read", "Observation", false],
	] {
		[role, action, type, allowed] := case
		resource := object.union(fixtures.observation, {"type": type})
		subject := fixtures.subject({"roles": [role], "scopes": ["user/*.cruds", "system/*.cruds"]})
		d := decision with input as fixtures.request(subject, action, resource)
		d.allow == allowed
	}
}

test_no_role_reason if {
	d := decision with input as fixtures.request(fixtures.clinician, "delete", fixtures.observation)
	not d.allow
	"access.no_role" in fixtures.codes(d)
}

test_no_role_reason_without_type if {
	d := decision with input as fixtures.with_resource({"type": null})
	not d.allow
	some r in d.reasons
	r.code == "access.no_role"
}

test_tenant_mismatch if {
	d := decision with input as fixtures.with_resource({"tenant": "south"})
	not d.allow
	fixtures.codes(d) == {"tenant.mismatch"}
}

test_tenant_missing if {
	every changed in [
		fixtures.with_subject({"tenant": ""}),
		fixtures.with_resource({"tenant": ""}),
		json.remove(fixtures.clinician_read, ["subject/tenant"]),
		json.remove(fixtures.clinician_read, ["resource/tenant"]),
	] {
		d := decision with input as changed
		not d.allow
		"tenant.missing" in fixtures.codes(d)
	}
}

test_cross_tenant_break_glass if {
	request := object.union(fixtures.with_resource({"tenant": "south"}), {"subject": {"break_glass": fixtures.break_glass}})
	d := decision with input as request
	d.allow
	"tenant.break_glass" in fixtures.codes(d)
	d.obligations.audit_level == "high"
	d.obligations.review
}

test_researcher_needs_research_purpose if {
	subject := fixtures.subject({"roles": ["researcher"], "purpose_of_use": "TREAT"})
	d := decision with input as fixtures.request(subject, "read", fixtures.observation)
	not d.allow
	"access.research_purpose" in fixtures.codes(d)
}

test_researcher_without_purpose if {
	subject := json.remove(fixtures.subject({"roles": ["researcher"]}), ["purpose_of_use"])
	d := decision with input as fixtures.request(subject, "read", fixtures.observation)
	not d.allow
	"access.research_purpose" in fixtures.codes(d)
}
