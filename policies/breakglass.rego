# Break-glass: emergency access that overrides tenant isolation, consent
# opt-outs (except for research) and sensitivity labels. The subject asks for
# it with subject.break_glass {reason, started_at}. It is valid only for the
# roles in break_glass_roles, with a reason of at least
# break_glass_min_reason_length characters and break_glass_min_reason_words
# words, and for break_glass_max_seconds after started_at. Every request for
# break-glass, granted or not, is audited at level high; a valid one is also
# flagged for review.
package healthhub.breakglass

import data.healthhub.lib
import data.healthhub.settings

# active is true for a valid break-glass: a role that may use it, a reason
# long enough, and a decision time within the window after started_at. A
# started_at that does not parse leaves elapsed_ns undefined (where built-in
# errors are not raised), so it never activates break-glass.
active if {
	input.subject.break_glass
	role_allowed
	reason_long_enough
	elapsed := elapsed_ns
	elapsed >= 0
	elapsed <= settings.break_glass_max_seconds * 1000000000
}

# deny gives the reasons a requested break-glass is not active. problems
# holds one rule for each condition of active, so a valid break-glass, the
# common case, evaluates none of them.
deny contains reason if {
	input.subject.break_glass
	not active
	some reason in problems
}

problems contains {"code": "break_glass.malformed", "message": "subject.break_glass must be an object with reason and started_at"} if {
	not is_object(input.subject.break_glass)
}

problems contains {"code": "break_glass.role", "message": "break-glass is not available to the subject's roles"} if {
	not role_allowed
}

role_allowed if {
	some role in input.subject.roles
	role in settings.break_glass_roles
}

problems contains {"code": "break_glass.reason", "message": message} if {
	is_object(input.subject.break_glass)
	not reason_long_enough
	message := sprintf("a break-glass reason needs at least %d characters and %d words", [
		settings.break_glass_min_reason_length,
		settings.break_glass_min_reason_words,
	])
}

# A reason that is missing or not a string is never long enough.
reason_long_enough if {
	is_string(input.subject.break_glass.reason)
	reason := trim_space(input.subject.break_glass.reason)
	count(reason) >= settings.break_glass_min_reason_length
	count(regex.split(`\s+`, reason)) >= settings.break_glass_min_reason_words
}

problems contains {"code": "break_glass.started_at", "message": "break-glass needs started_at, the RFC 3339 time it began"} if {
	is_object(input.subject.break_glass)
	not elapsed_ns
}

elapsed_ns := lib.now_ns - time.parse_rfc3339_ns(input.subject.break_glass.started_at)

problems contains {"code": "break_glass.expired", "message": message} if {
	elapsed_ns > settings.break_glass_max_seconds * 1000000000
	message := sprintf("break-glass lasts at most %d seconds", [settings.break_glass_max_seconds])
}

problems contains {"code": "break_glass.future", "message": "break-glass started_at is after the decision time"} if {
	elapsed_ns < 0
}

notes contains {"code": "break_glass.active", "message": "break-glass access: audited at level high and flagged for review"} if {
	input.subject.break_glass
	active
}
