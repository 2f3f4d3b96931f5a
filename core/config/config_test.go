package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestLoadWithNothingConfigured(t *testing.T) {
	cfg, unknown, err := Load("", nil)
	require.NoError(t, err)
	assert.Empty(t, unknown)
	assert.Equal(t, "data", cfg.DataPath())
	assert.Equal(t, filepath.Join("data", "apikeys.json"), cfg.APIKeysPath())
	assert.Empty(t, cfg.Server.Listen, "defaults stay with the packages, not in the struct")
	assert.True(t, cfg.Logging.AccessLogEnabled())
}

func TestLoadFullFile(t *testing.T) {
	path := writeConfig(t, `
data_dir: /var/lib/healthhub
server:
  listen: 0.0.0.0:9443
  base_url: https://hub.example.org
  tls_cert_file: /etc/hub/cert.pem
  tls_key_file: /etc/hub/key.pem
  request_timeout: 15s
  shutdown_timeout: 1m
auth:
  issuer: clinic-hub
  token_ttl: 30m
  oidc:
    issuer: https://login.example.org/realms/clinic
    jwks_url: https://login.example.org/realms/clinic/protocol/openid-connect/certs
    claims:
      roles: realm_access.roles
limits:
  max_body_size: 4MiB
  max_blob_size: 2147483648
  rate_limit:
    requests_per_second: 12.5
    burst: 20
logging:
  level: debug
  format: text
  access_log: false
metrics:
  enabled: false
  require_auth: true
`)
	cfg, _, err := Load(path, nil)
	require.NoError(t, err)
	assert.Equal(t, "/var/lib/healthhub", cfg.DataPath())
	assert.Equal(t, "0.0.0.0:9443", cfg.Server.Listen)
	assert.Equal(t, 15*time.Second, cfg.Server.RequestTimeout.Std())
	assert.Equal(t, time.Minute, cfg.Server.ShutdownTimeout.Std())
	assert.Equal(t, "clinic-hub", cfg.Auth.Issuer)
	assert.Equal(t, 30*time.Minute, cfg.Auth.TokenTTL.Std())
	assert.Equal(t, "realm_access.roles", cfg.Auth.OIDC.Claims.Roles)
	assert.Equal(t, int64(4<<20), cfg.Limits.MaxBodySize.Int64())
	assert.Equal(t, int64(2<<30), cfg.Limits.MaxBlobSize.Int64())
	assert.Equal(t, 12.5, cfg.Limits.RateLimit.RequestsPerSecond)
	assert.Equal(t, 20, cfg.Limits.RateLimit.Burst)
	assert.Equal(t, "debug", cfg.Logging.Level)
	assert.False(t, cfg.Logging.AccessLogEnabled())
	require.NotNil(t, cfg.Metrics.Enabled)
	assert.False(t, *cfg.Metrics.Enabled)
	assert.True(t, cfg.Metrics.RequireAuth)
}

func TestLoadEnvironmentOverridesFile(t *testing.T) {
	path := writeConfig(t, "server:\n  listen: 127.0.0.1:9000\n")
	cfg, unknown, err := Load(path, []string{
		"HUB_SERVER_LISTEN=127.0.0.1:9100",
		"HUB_DATA_DIR=/srv/hub",
		"HUB_LIMITS_RATE_LIMIT_BURST=7",
		"HUB_LIMITS_RATE_LIMIT_DISABLED=true",
		"HUB_LIMITS_MAX_BODY_SIZE=1048576",
		"HUB_LIMITS_MAX_BLOB_SIZE=64MiB",
		"HUB_AUTH_OIDC_ISSUER=https://idp.test",
		"HUB_AUTH_OIDC_JWKS_FILE=/etc/hub/jwks.json",
		"HUB_REQUIRE_POSTGRES=1",
		"PATH=/usr/bin",
	})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9100", cfg.Server.Listen)
	assert.Equal(t, "/srv/hub", cfg.DataDir)
	assert.Equal(t, 7, cfg.Limits.RateLimit.Burst)
	assert.True(t, cfg.Limits.RateLimit.Disabled)
	assert.Equal(t, int64(1<<20), cfg.Limits.MaxBodySize.Int64())
	assert.Equal(t, int64(64<<20), cfg.Limits.MaxBlobSize.Int64())
	assert.Equal(t, "https://idp.test", cfg.Auth.OIDC.Issuer)
	assert.Equal(t, []string{"HUB_REQUIRE_POSTGRES"}, unknown)
}

func TestLoadReportsEveryBadKey(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		want []string
	}{
		{"unknown section", "stroe:\n  driver: sqlite\n", nil, []string{"stroe: unknown key"}},
		{"unknown nested key", "server:\n  listn: :8080\n", nil, []string{"server.listn: unknown key"}},
		{"enum", "logging:\n  level: loud\n", nil, []string{"logging.level: must be one of debug, info, warn, error"}},
		{"duration without unit", "server:\n  read_timeout: 10\n", nil, []string{"server.read_timeout: must be a duration such as"}},
		{"bad size", "limits:\n  max_body_size: lots\n", nil, []string{"limits.max_body_size: must be a size such as"}},
		{"listen without port", "server:\n  listen: localhost\n", nil, []string{"server.listen: must be host:port"}},
		{"minimum", "limits:\n  rate_limit:\n    burst: 0\n", nil, []string{"limits.rate_limit.burst:"}},
		{"wrong type", "metrics:\n  enabled: sometimes\n", nil, []string{"metrics.enabled: must be a boolean, got a string"}},
		{"tls pair", "server:\n  tls_cert_file: c.pem\n", nil, []string{"server.tls_key_file: required when tls_cert_file is set"}},
		{"oidc without keys", "auth:\n  oidc:\n    issuer: https://idp.test\n", nil, []string{"auth.oidc: set exactly one of jwks_file and jwks_url"}},
		{"oidc with both keys", "auth:\n  oidc:\n    issuer: https://idp.test\n    jwks_file: a.json\n    jwks_url: https://idp.test/jwks\n", nil, []string{"auth.oidc: set exactly one"}},
		{"env names the variable", "", []string{"HUB_LIMITS_RATE_LIMIT_BURST=many"}, []string{"limits.rate_limit.burst: must be an integer, got a string (set by HUB_LIMITS_RATE_LIMIT_BURST)"}},
		{"two problems", "logging:\n  format: xml\nserver:\n  idle_timeout: forever\n", nil, []string{"logging.format: must be one of json, text", "server.idle_timeout: must be a duration"}},
		{"env into scalar", "server: 8080\n", []string{"HUB_SERVER_LISTEN=:1"}, []string{"server.listen: cannot set a key inside \"server\""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.file)
			_, _, err := Load(path, tc.env)
			var cfgErr *Error
			require.True(t, errors.As(err, &cfgErr), "want *config.Error, got %v", err)
			require.Len(t, cfgErr.Problems, len(tc.want), "problems: %v", cfgErr.Problems)
			for i, want := range tc.want {
				assert.Contains(t, cfgErr.Problems[i].String(), want)
			}
			assert.Contains(t, err.Error(), path)
		})
	}
}

func TestLoadRejectsBadDocuments(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string
	}{
		{"invalid yaml", "server: [unclosed\n", "not valid YAML"},
		{"list document", "- a\n- b\n", "must be a mapping of sections, got a list"},
		{"string document", "hello\n", "got a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(writeConfig(t, tc.file), nil)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLoadEmptyFile(t *testing.T) {
	cfg, _, err := Load(writeConfig(t, "# nothing set\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, "data", cfg.DataPath())
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// jsonKeys lists the dotted JSON key paths of a struct type, stopping at
// types that decode from one JSON value.
func jsonKeys(typ reflect.Type, prefix string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || typ.PkgPath() == "time" {
		return []string{prefix}
	}
	var keys []string
	for field := range slices.Values(reflect.VisibleFields(typ)) {
		tag := strings.Split(field.Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" || !field.IsExported() {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		keys = append(keys, jsonKeys(field.Type, key)...)
	}
	return keys
}

func TestSchemaMatchesStructs(t *testing.T) {
	var schemaKeys []string
	for _, entry := range EnvNames() {
		schemaKeys = append(schemaKeys, entry[1])
	}
	structKeys := jsonKeys(reflect.TypeFor[Config](), "")
	slices.Sort(schemaKeys)
	slices.Sort(structKeys)
	assert.Equal(t, structKeys, schemaKeys, "every Config field needs a schema property and the other way round")
}

func TestEnvNamesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, entry := range EnvNames() {
		assert.False(t, seen[entry[0]], "two keys map to %s", entry[0])
		seen[entry[0]] = true
		assert.True(t, strings.Contains(string(doc), "`"+entry[0]+"`"), "docs/configuration.md lacks %s (%s)", entry[0], entry[1])
		assert.True(t, strings.Contains(string(doc), "`"+entry[1]+"`"), "docs/configuration.md lacks key %s", entry[1])
	}
}

func TestNewLoggerLevels(t *testing.T) {
	var b strings.Builder
	logger := LoggingConfig{Level: "warn"}.NewLogger(&b)
	logger.Info("hidden")
	logger.Warn("shown")
	assert.NotContains(t, b.String(), "hidden")
	assert.Contains(t, b.String(), `"msg":"shown"`)

	b.Reset()
	LoggingConfig{Format: "text", Level: "debug"}.NewLogger(&b).Debug("detail")
	assert.Contains(t, b.String(), "msg=detail")
}

func TestLeafParseByType(t *testing.T) {
	tests := []struct {
		name  string
		types []string
		value string
		want  any
	}{
		{"boolean", []string{"boolean"}, "true", true},
		{"integer", []string{"integer"}, "42", int64(42)},
		{"number", []string{"number"}, "12.5", 12.5},
		{"size as integer", []string{"integer", "string"}, "4096", int64(4096)},
		{"size as string", []string{"integer", "string"}, "8MiB", "8MiB"},
		{"list", []string{"array"}, "eu-west-1, us-east-1,,", []any{"eu-west-1", "us-east-1"}},
		{"object", []string{"object"}, `{"root":"/srv"}`, map[string]any{"root": "/srv"}},
		{"unparsable stays text", []string{"integer"}, "many", "many"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, leafKey{key: "k", types: tc.types}.parse(tc.value))
		})
	}
}

func TestLoadPluginsSection(t *testing.T) {
	path := writeConfig(t, "plugins:\n  dir: /opt/hub/plugins\n  call_timeout: -1s\n  restart:\n    max_crashes: 3\n")
	cfg, _, err := Load(path, []string{`HUB_PLUGINS_PLUGINS={"storage-fs":{"root":"/srv/objects"}}`})
	require.NoError(t, err)
	assert.Equal(t, "/opt/hub/plugins", cfg.Plugins.Dir)
	assert.Equal(t, -time.Second, time.Duration(cfg.Plugins.CallTimeout))
	assert.Equal(t, 3, cfg.Plugins.Restart.MaxCrashes)
	assert.JSONEq(t, `{"root":"/srv/objects"}`, string(cfg.Plugins.Plugins["storage-fs"]))

	_, _, err = Load(writeConfig(t, "plugins:\n  start_timeout: -1s\n"), nil)
	assert.ErrorContains(t, err, "plugins.start_timeout: must be a duration")
	_, _, err = Load(writeConfig(t, "plugins:\n  call_timeout: soon\n"), nil)
	assert.ErrorContains(t, err, "plugins.call_timeout: must be a duration such as 30s or 5m, or a negative one")
}
