# Settings the policies read. The hub passes its configuration as the data
# document data.healthhub.config; every key missing there falls back to the
# default below, so `opa test policies/` runs without any data file.
package healthhub.settings

# Defaults, kept equal to the defaults of core/policy.Config (a Go test
# compares the two).
defaults := {
	"allowed_regions": [],
	"break_glass_max_seconds": 3600,
	"break_glass_min_reason_length": 20,
	"break_glass_min_reason_words": 3,
	"break_glass_roles": ["clinician", "nurse"],
	"sensitive_labels": ["ETH", "SUD", "PSY", "MH", "HIV", "SDV", "SEX", "STD"],
	"max_retention_days": 30,
	"require_scopes": true,
}

default provided := {}

provided := data.healthhub.config

# One rule per setting, so that a decision only pays for the settings it
# reads.
allowed_regions := object.get(provided, "allowed_regions", defaults.allowed_regions)

break_glass_max_seconds := object.get(provided, "break_glass_max_seconds", defaults.break_glass_max_seconds)

break_glass_min_reason_length := object.get(provided, "break_glass_min_reason_length", defaults.break_glass_min_reason_length)

break_glass_min_reason_words := object.get(provided, "break_glass_min_reason_words", defaults.break_glass_min_reason_words)

break_glass_roles := object.get(provided, "break_glass_roles", defaults.break_glass_roles)

sensitive_labels := object.get(provided, "sensitive_labels", defaults.sensitive_labels)

max_retention_days := object.get(provided, "max_retention_days", defaults.max_retention_days)

require_scopes := object.get(provided, "require_scopes", defaults.require_scopes)
