package healthhub.settings_test

import data.healthhub.settings

test_defaults_without_config if {
	settings.require_scopes == true
	settings.allowed_regions == []
	settings.break_glass_max_seconds == 3600
	settings.max_retention_days == 30
}

test_config_overrides_defaults if {
	settings.allowed_regions == ["eu"] with data.healthhub.config as {"allowed_regions": ["eu"]}
	settings.max_retention_days == 30 with data.healthhub.config as {"allowed_regions": ["eu"]}
}
