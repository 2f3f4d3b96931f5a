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

# One rule per setting, so that a decision only pays for the settings it
# reads. Each takes the key of data.healthhub.config when it is there (even
# false or empty) and the default otherwise.
allowed_regions := value if {
	value := data.healthhub.config.allowed_regions
} else := defaults.allowed_regions

break_glass_max_seconds := value if {
	value := data.healthhub.config.break_glass_max_seconds
} else := defaults.break_glass_max_seconds

break_glass_min_reason_length := value if {
	value := data.healthhub.config.break_glass_min_reason_length
} else := defaults.break_glass_min_reason_length

break_glass_min_reason_words := value if {
	value := data.healthhub.config.break_glass_min_reason_words
} else := defaults.break_glass_min_reason_words

break_glass_roles := value if {
	value := data.healthhub.config.break_glass_roles
} else := defaults.break_glass_roles

sensitive_labels := value if {
	value := data.healthhub.config.sensitive_labels
} else := defaults.sensitive_labels

max_retention_days := value if {
	value := data.healthhub.config.max_retention_days
} else := defaults.max_retention_days

require_scopes := value if {
	value := data.healthhub.config.require_scopes
} else := defaults.require_scopes
