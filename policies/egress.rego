# Egress: what a provider may receive, from its data-use declaration
# (input.provider.data_use, as the SDK's DataUse marshals it).
#
# A provider whose data leaves the machine must process it in a region of the
# configuration's allowed_regions. Without a business associate agreement
# (baa) it receives de-identified payloads only, and only if it keeps the
# data no longer than max_retention_days (retention_days -1, unknown or
# indefinite, is refused). The provider actions (transcribe, analyze, chat)
# need a provider of the kind that serves them.
package healthhub.egress

import data.healthhub.deidentify
import data.healthhub.minimum
import data.healthhub.settings

# kinds_for maps the provider actions to the provider kinds that serve them.
kinds_for := {
	"transcribe": {"transcription"},
	"analyze": {"imaging", "llm"},
	"chat": {"llm"},
}

deny contains {"code": "egress.no_provider", "message": sprintf("action %s needs a provider", [input.action])} if {
	input.action in {"transcribe", "analyze", "chat"}
	not input.provider
}

deny contains {"code": "egress.provider_kind", "message": message} if {
	input.provider
	allowed := kinds_for[input.action]
	not input.provider.kind in allowed
	message := sprintf("action %s cannot go to a provider of kind %s", [input.action, object.get(input.provider, "kind", "")])
}

deny contains {"code": "egress.region", "message": sprintf("provider region %q is not an allowed region", [region])} if {
	input.provider.data_use.egress == true
	region := object.get(input.provider.data_use, "region", "")
	not region in settings.allowed_regions
}

deny contains {"code": "egress.retention", "message": message} if {
	input.provider.data_use.egress == true
	not input.provider.data_use.baa == true
	not retention_acceptable
	message := sprintf("without a BAA a provider may keep data at most %d days", [settings.max_retention_days])
}

retention_acceptable if {
	days := input.provider.data_use.retention_days
	is_number(days)
	days >= 0
	days <= settings.max_retention_days
}

# deidentify_required is true when the payload leaves the machine to a party
# without a BAA.
deidentify_required if {
	input.provider.data_use.egress == true
	not input.provider.data_use.baa == true
}

# Free text in a chat is pseudonymized so that the reply can be mapped
# back; elsewhere it is redacted.
replace := "pseudonymize" if input.action == "chat"

else := "redact"

obligations contains deidentify.obligations("egress.deidentify", replace) if deidentify_required

# reidentify is true when the hub may map pseudonyms in the provider's reply
# back to the real values: for a chat reply to a subject who may see them.
reidentify if {
	input.action == "chat"
	deidentify_required
	not minimum.deidentified_only
}

notes contains {"code": "egress.deidentify", "message": "the provider has no BAA: the payload is de-identified before it leaves"} if {
	input.provider.data_use.egress == true
	deidentify_required
}
