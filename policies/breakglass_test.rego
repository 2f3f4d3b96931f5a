package healthhub.breakglass_test

import data.healthhub.authz.decision
import data.healthhub.fixtures

glass(changes) := fixtures.with_subject({"break_glass": object.union(fixtures.break_glass, changes)})

test_valid_break_glass if {
	d := decision with input as glass({})
	d.allow
	"break_glass.active" in fixtures.codes(d)
	d.obligations.audit_level == "high"
	d.obligations.review
}

test_denied_break_glass if {
	every case in [
		[{"reason": "emergency"}, "break_glass.reason"],
		[{"reason": "   aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   "}, "break_glass.reason"],
		[{"reason": 12}, "break_glass.reason"],
		[{"started_at": "2025-03-04T08:59:59Z"}, "break_glass.expired"],
		[{"started_at": "2025-03-04T10:00:01Z"}, "break_glass.future"],
		[{"started_at": ""}, "break_glass.started_at"],
	] {
		[changes, code] := case
		d := decision with input as glass(changes)
		not d.allow
		code in fixtures.codes(d)
		d.obligations.audit_level == "high"
		d.obligations.review == false
	}
}

test_break_glass_without_started_at if {
	d := decision with input as json.remove(glass({}), ["subject/break_glass/started_at"])
	not d.allow
	"break_glass.started_at" in fixtures.codes(d)
}

test_break_glass_role if {
	request := object.union(glass({}), {"subject": {"roles": ["billing"]}, "resource": {"type": "Claim"}})
	d := decision with input as request
	not d.allow
	"break_glass.role" in fixtures.codes(d)
}

test_break_glass_settings if {
	config := {
		"break_glass_max_seconds": 300,
		"break_glass_min_reason_length": 5,
		"break_glass_min_reason_words": 1,
		"break_glass_roles": ["clinician"],
	}
	d := decision with input as glass({}) with data.healthhub.config as config
	"break_glass.expired" in fixtures.codes(d)
	short := decision with input as glass({"reason": "stroke", "started_at": "2025-03-04T09:58:00Z"}) with data.healthhub.config as config
	short.allow
}

test_break_glass_not_an_object if {
	every value in [true, "now", 1, ["reason"]] {
		d := decision with input as fixtures.with_subject({"break_glass": value})
		not d.allow
		"break_glass.malformed" in fixtures.codes(d)
		not "break_glass.reason" in fixtures.codes(d)
		not "break_glass.started_at" in fixtures.codes(d)
		d.obligations.audit_level == "high"
	}
}

test_no_break_glass_when_false if {
	d := decision with input as fixtures.with_subject({"break_glass": false})
	d.allow
	d.obligations.audit_level == "standard"
}
