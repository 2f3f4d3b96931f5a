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

test_config_false_and_empty_values_kept if {
	settings.require_scopes == false with data.healthhub.config as {"require_scopes": false}
	settings.break_glass_roles == [] with data.healthhub.config as {"break_glass_roles": []}
	settings.break_glass_roles == ["clinician", "nurse"] with data.healthhub.config as {"require_scopes": false}
}
