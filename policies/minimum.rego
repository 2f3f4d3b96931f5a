# Minimum necessary: a role sees only what its work needs. Billing sees no
# clinical notes: note resources are denied, narrative and annotations are
# removed from the rest. Researchers see de-identified data only. The
# restrictions apply when the access is granted through these roles alone.
package healthhub.minimum

import data.healthhub.access
import data.healthhub.deidentify

unrestricted_grant if {
	some role in access.granting_roles
	not role in {"billing", "researcher"}
}

billing if {
	"billing" in input.subject.roles
	not unrestricted_grant
}

# deidentified_only is true when the subject may see de-identified data
# only, so pseudonyms must never be mapped back for them.
deidentified_only if {
	"researcher" in input.subject.roles
	not unrestricted_grant
}

deny contains {"code": "minimum.billing_notes", "message": sprintf("billing may not see clinical notes (%s)", [input.resource.type])} if {
	input.resource.type in {
		"Binary", "ClinicalImpression", "Communication", "Composition",
		"DocumentReference", "Media",
	}
	billing
}

obligations contains {"remove": {
	{"path": "Resource.text", "rule": "minimum.billing"},
	{"path": "Resource.note", "rule": "minimum.billing"},
}} if billing

obligations contains deidentify.obligations("minimum.research", "redact") if deidentified_only
