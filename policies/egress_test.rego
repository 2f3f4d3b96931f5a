package healthhub.egress_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

cloud := {"egress": true, "hosts": ["api.chat.example"], "region": "us-east-1", "baa": false, "retention_days": 0}

chat(data_use) := object.union(
	fixtures.request(fixtures.clinician, "chat", object.union(fixtures.observation, {"type": "Communication"})),
	{"provider": fixtures.llm_provider(data_use)},
)

allowed_regions := {"allowed_regions": ["us-east-1", "eu"]}

test_chat_without_baa_is_deidentified if {
	d := decision with input as chat(cloud) with data.healthhub.config as allowed_regions
	d.allow
	"egress.deidentify" in fixtures.codes(d)
	{"path": "Patient.telecom", "rule": "egress.deidentify"} in d.obligations.remove
	{"path": "Patient.address", "rule": "egress.deidentify"} in d.obligations.remove
	{"path": "Resource.identifier", "rule": "egress.deidentify"} in d.obligations.pseudonymize
	d.obligations.generalize_dates == {{"path": "Resource.descendants()", "precision": "year", "rule": "egress.deidentify"}}
	every rule in d.obligations.scrub_text {
		rule.replace == "pseudonymize"
	}
	d.obligations.reidentify
}

test_analyze_redacts_free_text if {
	request := object.union(chat(cloud), {"action": "analyze", "resource": {"type": "ImagingStudy"}})
	d := decision with input as request with data.healthhub.config as allowed_regions
	d.allow
	every rule in d.obligations.scrub_text {
		rule.replace == "redact"
	}
	d.obligations.reidentify == false
}

test_provider_with_baa_gets_full_data if {
	d := decision with input as chat(object.union(cloud, {"baa": true, "retention_days": -1})) with data.healthhub.config as allowed_regions
	d.allow
	d.obligations == {"audit_level": "standard", "review": false, "reidentify": false}
}

test_local_provider_gets_full_data if {
	d := decision with input as chat({"egress": false, "baa": false, "retention_days": 0})
	d.allow
	d.obligations == {"audit_level": "standard", "review": false, "reidentify": false}
}

test_region_not_allowed if {
	every data_use in [
		cloud,
		object.union(cloud, {"region": "ap-south-1"}),
		json.remove(cloud, ["region"]),
	] {
		d := decision with input as chat(data_use)
		not d.allow
		"egress.region" in fixtures.codes(d)
	}
}

test_retention if {
	every case in [
		[0, true],
		[30, true],
		[30.0, true],
		[31, false],
		[-1, false],
		["30", false],
	] {
		[days, allowed] := case
		d := decision with input as chat(object.union(cloud, {"retention_days": days})) with data.healthhub.config as allowed_regions
		d.allow == allowed
	}
}

test_retention_reason if {
	d := decision with input as chat(object.union(cloud, {"retention_days": 365})) with data.healthhub.config as allowed_regions
	fixtures.codes(d) == {"egress.retention"}
}

test_provider_actions_need_a_provider if {
	d := decision with input as json.remove(chat(cloud), ["provider"])
	fixtures.codes(d) == {"egress.no_provider"}
}

test_provider_kind_must_match if {
	request := object.union(chat(cloud), {"action": "transcribe", "resource": {"type": "Media"}})
	d := decision with input as request with data.healthhub.config as allowed_regions
	fixtures.codes(d) == {"egress.provider_kind"}
}

test_researcher_chat_is_not_reidentified if {
	subject := fixtures.subject({"roles": ["researcher"], "purpose_of_use": "HRESCH"})
	consent := fixtures.consent({"type": "permit", "purpose": fixtures.purpose("HRESCH")})
	request := object.union(chat(cloud), {"subject": subject, "action": "analyze", "context": {"consents": [consent]}})
	d := decision with input as request with data.healthhub.config as allowed_regions
	d.allow
	d.obligations.reidentify == false
}
