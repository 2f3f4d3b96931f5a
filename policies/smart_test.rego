package healthhub.smart_test

import data.healthhub.authz.decision
import data.healthhub.fixtures
import data.healthhub.smart

scoped(scopes, action, resource_changes) := fixtures.request(
	fixtures.subject({"scopes": scopes, "patient": "Patient/p1"}),
	action,
	object.union(fixtures.observation, resource_changes),
)

test_scope_table if {
	every case in [
		[["user/*.cruds"], "read", {}, true],
		[["user/Observation.rs"], "read", {}, true],
		[["user/Observation.rs"], "update", {}, false],
		[["user/Condition.rs"], "read", {}, false],
		[["user/Observation.cu"], "update", {}, true],
		[["user/Observation.sr"], "read", {}, false],
		[["user/Observation.rs?category=laboratory"], "read", {}, true],
		[["user/Observation.read"], "search", {}, true],
		[["user/Observation.read"], "create", {}, false],
		[["user/Observation.write"], "create", {}, true],
		[["user/Observation.*"], "update", {}, true],
		[["patient/Observation.rs"], "read", {}, true],
		[["patient/Observation.rs"], "read", {"patient": "Patient/p2"}, false],
		[["patient/Patient.rs"], "read", {"type": "Patient", "id": "p1"}, true],
		[["patient/Patient.rs"], "read", {"type": "Patient", "id": "p2", "patient": "Patient/p2"}, false],
		[["system/Observation.rs"], "read", {}, false],
		[["openid", "fhirUser", "launch/patient"], "read", {}, false],
		[[], "read", {}, false],
		[["user/*.r"], "history", {}, true],
		[["user/*.s"], "history", {}, false],
		[["user/*.r"], "export", {}, false],
		[["user/*.rs"], "search", {}, true],
		[[42], "read", {}, false],
	] {
		[scopes, action, changes, allowed] := case
		d := decision with input as scoped(scopes, action, changes)
		d.allow == allowed
	}
}

test_history_of_type_needs_search if {
	request := json.remove(scoped(["user/*.s"], "history", {}), ["resource/id"])
	smart.needed == ["s"] with input as request
	decision.allow with input as request
}

test_no_scope_reason if {
	d := decision with input as scoped(["user/Condition.rs"], "read", {})
	fixtures.codes(d) == {"smart.no_scope"}
}

test_system_scope_for_service if {
	subject := fixtures.subject({"roles": ["service"], "scopes": ["system/Observation.rs"]})
	d := decision with input as fixtures.request(subject, "read", fixtures.observation)
	d.allow
}

test_missing_scopes_denied_by_default if {
	d := decision with input as json.remove(fixtures.clinician_read, ["subject/scopes"])
	fixtures.codes(d) == {"smart.no_scope"}
}

test_missing_scopes_allowed_when_configured if {
	d := decision with input as json.remove(fixtures.clinician_read, ["subject/scopes"])
		with data.healthhub.config as {"require_scopes": false}
	d.allow
}

test_unknown_action if {
	d := decision with input as object.union(fixtures.clinician_read, {"action": "teleport"})
	fixtures.codes(d) == {"access.no_role", "smart.unknown_action"}
}
