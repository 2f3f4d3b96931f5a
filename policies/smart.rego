# SMART on FHIR scopes narrow what a token may do, on top of the roles.
#
# Scopes use the SMART App Launch 2.0 form context/Type.permissions, such as
# "patient/Observation.rs" or "user/*.cruds", where the permissions are
# letters in the order c (create), r (read), u (update), d (delete) and
# s (search). A query suffix ("?category=...") is accepted and ignored, so
# such a scope grants no more than the same scope without it. SMART 1.0
# suffixes are read as their 2.0 equivalents: "read" as "rs", "write" as
# "cud" and "*" as "cruds". Scopes of other forms, such as "openid" or
# "launch/patient", grant nothing here.
#
# The context limits the records: patient/ scopes reach only the patient in
# context (subject.patient), system/ scopes only serve the service role.
package healthhub.smart

import data.healthhub.lib
import data.healthhub.settings

# needed is the permission letters the action needs. History of one
# resource is a read, history of a type is a search.
needed := {
	"create": ["c"],
	"read": ["r"],
	"update": ["u"],
	"delete": ["d"],
	"search": ["s"],
	"export": ["r", "s"],
	"transcribe": ["r"],
	"analyze": ["r"],
	"chat": ["r"],
}[input.action]

needed := ["r"] if {
	input.action == "history"
	input.resource.id
}

needed := ["s"] if {
	input.action == "history"
	not input.resource.id
}

# scopes_apply is true when the request carries scopes or the configuration
# requires them.
scopes_apply if input.subject.scopes

scopes_apply if settings.require_scopes == true

# granted is true when a scope of the token allows the request.
granted if {
	some raw in input.subject.scopes
	contains(raw, "/")
	[[_, context, type, permissions, _]] := regex.find_all_string_submatch_n(
		`^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(c?r?u?d?s?|read|write|\*)(\?.*)?$`,
		raw, 1,
	)
	type in ["*", input.resource.type]
	letters := object.get({"read": "rs", "write": "cud", "*": "cruds"}, permissions, permissions)
	every letter in needed {
		contains(letters, letter)
	}
	context_holds(context)
}

context_holds("user")

context_holds("patient") if {
	input.resource.patient == input.subject.patient
	input.subject.patient != ""
}

context_holds("patient") if {
	input.resource.type == "Patient"
	concat("/", ["Patient", input.resource.id]) == input.subject.patient
}

context_holds("system") if "service" in input.subject.roles

deny contains {"code": "smart.no_scope", "message": sprintf("no scope of the token allows %s on %s", [lib.action, lib.resource_type])} if {
	scopes_apply
	needed
	not granted
}

deny contains {"code": "smart.unknown_action", "message": sprintf("action %q has no scope mapping", [lib.action])} if {
	scopes_apply
	not needed
}
