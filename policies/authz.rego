# The decision: the entry point the hub queries (data.healthhub.authz.decision).
#
# A request is allowed when a role grants it and no concern denies it. The
# decision carries the reasons (grants and notes when allowed, denials when
# not, each set in code order) and the obligations the hub must apply to the
# payload before it leaves. The default decision denies, so an undefined
# result never allows.
package healthhub.authz

import data.healthhub.access
import data.healthhub.breakglass
import data.healthhub.consent
import data.healthhub.egress
import data.healthhub.labels
import data.healthhub.minimum
import data.healthhub.smart

default decision := {
	"allow": false,
	"reasons": [{"code": "policy.undefined", "message": "the policy produced no decision"}],
	"obligations": {"audit_level": "high", "review": false, "reidentify": false},
}

decision := {
	"allow": true,
	"reasons": notes,
	"obligations": obligations,
} if {
	count(access.grants) > 0
	count(denials) == 0
} else := {
	"allow": false,
	"reasons": denials,
	"obligations": {"audit_level": audit_level, "review": review, "reidentify": false},
}

# denials and notes gather the concerns' reasons. One body per concern is
# cheaper to evaluate than set unions.
denials contains reason if some reason in access.deny

denials contains reason if some reason in smart.deny

denials contains reason if some reason in consent.deny

denials contains reason if some reason in labels.deny

denials contains reason if some reason in breakglass.deny

denials contains reason if some reason in minimum.deny

denials contains reason if some reason in egress.deny

denials contains {"code": "request.time", "message": "context.time is not an RFC 3339 time"} if {
	input.context.time
	not time.parse_rfc3339_ns(input.context.time)
}

notes contains reason if some reason in access.grants

notes contains reason if some reason in access.notes

notes contains reason if some reason in consent.notes

notes contains reason if some reason in labels.notes

notes contains reason if some reason in breakglass.notes

notes contains reason if some reason in egress.notes

default audit_level := "standard"

audit_level := "high" if input.subject.break_glass

audit_level := "high" if {
	input.resource.security_labels
	count(labels.sensitive) > 0
}

audit_level := "high" if input.action == "export"

audit_level := "high" if {
	"researcher" in input.subject.roles
	minimum.deidentified_only
}

default review := false

review if {
	input.subject.break_glass
	breakglass.active
}

default reidentify := false

reidentify if {
	input.action == "chat"
	egress.reidentify
}

# obligation_sets gathers the payload obligations of the concerns. Each body
# starts with the input its concern's obligations need (minimum's need the
# billing or researcher role), so that OPA's rule index skips the body for
# other requests.
obligation_sets contains set if {
	"billing" in input.subject.roles
	some set in minimum.obligations
}

obligation_sets contains set if {
	"researcher" in input.subject.roles
	some set in minimum.obligations
}

obligation_sets contains set if {
	input.provider
	some set in egress.obligations
}

# Each concern gives its obligations as an object of sets, which union
# merges kind by kind without iterating over the items.
obligations := {"audit_level": audit_level, "review": review, "reidentify": reidentify} if {
	count(obligation_sets) == 0
} else := {
	"remove": union({items | some set in obligation_sets; items := object.get(set, "remove", set())}),
	"mask": union({items | some set in obligation_sets; items := object.get(set, "mask", set())}),
	"pseudonymize": union({items | some set in obligation_sets; items := object.get(set, "pseudonymize", set())}),
	"generalize_dates": union({items | some set in obligation_sets; items := object.get(set, "generalize_dates", set())}),
	"scrub_text": union({items | some set in obligation_sets; items := object.get(set, "scrub_text", set())}),
	"audit_level": audit_level,
	"review": review,
	"reidentify": reidentify,
}
