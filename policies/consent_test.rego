package healthhub.consent_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

with_consents(consents) := fixtures.with_context({"consents": consents})

opt_out_treatment := fixtures.consent({"type": "deny", "purpose": fixtures.purpose("TREAT")})

test_opt_out_denies_purpose if {
	d := decision with input as with_consents([opt_out_treatment])
	not d.allow
	fixtures.codes(d) == {"consent.opt_out"}
}

test_opt_out_other_purpose_allows if {
	consent := fixtures.consent({"type": "deny", "purpose": fixtures.purpose("HMARKT")})
	d := decision with input as with_consents([consent])
	d.allow
}

test_opt_out_without_purpose_denies_all if {
	d := decision with input as with_consents([fixtures.consent({"type": "deny"})])
	not d.allow
}

test_consent_ignored_when_not_applicable if {
	every consent in [
		object.union(opt_out_treatment, {"status": "inactive"}),
		object.union(opt_out_treatment, {"patient": {"reference": "Patient/p2"}}),
		object.union(opt_out_treatment, {"resourceType": "Basic"}),
		fixtures.consent({"type": "deny", "period": {"end": "2024"}}),
		fixtures.consent({"type": "deny", "period": {"start": "2025-03-05"}}),
		fixtures.consent({"type": "deny", "period": {"start": "2024-01", "end": "2025-02"}}),
	] {
		d := decision with input as with_consents([consent])
		d.allow
	}
}

test_consent_period_in_force if {
	every period in [
		{"start": "2025"},
		{"end": "2025-03-04"},
		{"start": "2024-01", "end": "2025-03"},
		{"start": "2025-03-04T09:00:00Z", "end": "2025-03-04T11:00:00Z"},
	] {
		d := decision with input as with_consents([fixtures.consent({"type": "deny", "period": period})])
		not d.allow
	}
}

test_nested_permit_is_an_exception if {
	consent := fixtures.consent({
		"type": "deny",
		"purpose": fixtures.purpose("TREAT"),
		"provision": [{"type": "permit", "actor": [{"reference": {"reference": "Practitioner/f001"}}]}],
	})
	d := decision with input as with_consents([consent])
	d.allow
}

test_nested_permit_for_other_actor if {
	consent := fixtures.consent({
		"type": "deny",
		"provision": [{"type": "permit", "actor": [{"reference": {"reference": "Practitioner/f002"}}]}],
	})
	d := decision with input as with_consents([consent])
	not d.allow
}

test_nested_deny_by_class if {
	consent := fixtures.consent({
		"type": "permit",
		"provision": [{"type": "deny", "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}]}],
	})
	d := decision with input as with_consents([consent])
	not d.allow
	other := object.union(with_consents([consent]), {"resource": {"type": "Condition"}})
	decision.allow with input as other
}

test_break_glass_overrides_opt_out if {
	request := object.union(with_consents([opt_out_treatment]), {"subject": {"break_glass": fixtures.break_glass}})
	d := decision with input as request
	d.allow
	"consent.break_glass" in fixtures.codes(d)
}

research_subject := fixtures.subject({"roles": ["researcher"], "purpose_of_use": "HRESCH"})

research_request(consents) := object.union(
	fixtures.request(research_subject, "read", fixtures.observation),
	{"context": {"consents": consents}},
)

research_opt_in := fixtures.consent({"type": "permit", "purpose": fixtures.purpose("HRESCH")})

test_research_needs_opt_in if {
	d := decision with input as research_request([])
	not d.allow
	fixtures.codes(d) == {"consent.research_opt_in"}
}

test_research_with_opt_in if {
	d := decision with input as research_request([research_opt_in])
	d.allow
	d.obligations.audit_level == "high"
	d.obligations.reidentify == false
	count(d.obligations.remove) > 0
}

test_research_opt_in_nested if {
	consent := fixtures.consent({"type": "deny", "provision": [{"type": "permit", "purpose": fixtures.purpose("HRESCH")}]})
	d := decision with input as research_request([consent])
	d.allow
}

test_research_opt_out_beats_break_glass if {
	consent := fixtures.consent({"type": "deny", "purpose": fixtures.purpose("HRESCH")})
	request := object.union(research_request([consent, research_opt_in]), {"subject": {"break_glass": fixtures.break_glass}})
	d := decision with input as request
	not d.allow
	"consent.opt_out" in fixtures.codes(d)
}

test_research_opt_in_period if {
	every case in [
		[{"start": "2024"}, true],
		[{"end": "2026"}, true],
		[{"start": "2024-06", "end": "2025-06"}, true],
		[{"start": "2025-04"}, false],
		[{"end": "2025-03-04T09:00:00Z"}, false],
		[{"start": "2023", "end": "2024"}, false],
		[{"start": "not a date"}, false],
	] {
		[period, allowed] := case
		consent := fixtures.consent({"type": "permit", "purpose": fixtures.purpose("HRESCH"), "period": period})
		d := decision with input as research_request([consent])
		d.allow == allowed
	}
}

test_opt_out_with_malformed_period_still_denies if {
	consent := fixtures.consent({"type": "deny", "period": {"start": "soon"}})
	d := decision with input as with_consents([consent])
	not d.allow
}
