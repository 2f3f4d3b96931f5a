# Inputs shared by the policy tests. The decision time is fixed so that
# break-glass and consent periods do not depend on the clock.
package healthhub.fixtures

now := "2025-03-04T10:00:00Z"

clinician := {
	"id": "Practitioner/f001",
	"roles": ["clinician"],
	"tenant": "north",
	"scopes": ["openid", "fhirUser", "user/*.cruds"],
	"purpose_of_use": "TREAT",
}

observation := {"type": "Observation", "id": "o1", "tenant": "north", "patient": "Patient/p1"}

request(subject, action, resource) := {
	"subject": subject,
	"action": action,
	"resource": resource,
	"context": {"time": now, "request_id": "req-1"},
}

clinician_read := request(clinician, "read", observation)

# subject(changes) is the clinician with fields replaced.
subject(changes) := object.union(clinician, changes)

with_subject(changes) := object.union(clinician_read, {"subject": changes})

with_resource(changes) := object.union(clinician_read, {"resource": changes})

with_context(changes) := object.union(clinician_read, {"context": changes})

codes(decision) := {r.code | some r in decision.reasons}

break_glass := {
	"reason": "patient unconscious in the emergency department, history needed",
	"started_at": "2025-03-04T09:50:00Z",
}

llm_provider(data_use) := {
	"kind": "llm",
	"name": "chat-cloud",
	"version": "2.1.0",
	"data_use": data_use,
}

consent(provision) := {
	"resourceType": "Consent",
	"id": "c1",
	"status": "active",
	"scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
	"patient": {"reference": "Patient/p1"},
	"provision": provision,
}

purpose(code) := [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": code}]

label(code) := {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code}
