package plugin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin"
)

func writeManifest(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, plugin.ManifestFile), []byte(content), 0o644))
	return dir
}

func TestReadManifestRejectsBadManifests(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     string
	}{
		{"bad name", `{"name": "Storage FS", "version": "1", "kinds": ["storage"], "command": "x"}`, `name "Storage FS" is invalid`},
		{"no version", `{"name": "x", "kinds": ["storage"], "command": "x"}`, "version is empty"},
		{"no kinds", `{"name": "x", "version": "1", "command": "x"}`, "kinds is empty"},
		{"unknown kind", `{"name": "x", "version": "1", "kinds": ["fax"], "command": "x"}`, `unknown kind "fax"`},
		{"command outside", `{"name": "x", "version": "1", "kinds": ["storage"], "command": "../../bin/sh"}`, "must be a path inside"},
		{"absolute command", `{"name": "x", "version": "1", "kinds": ["storage"], "command": "/bin/sh"}`, "must be a path inside"},
		{"schema outside", `{"name": "x", "version": "1", "kinds": ["storage"], "command": "x", "config_schema": "../s.json"}`, "must be a path inside"},
		{"other protocol", `{"name": "x", "version": "1", "kinds": ["storage"], "command": "x", "protocol_version": 9}`, "the plugin speaks 9, the hub speaks 1"},
		{"unknown field", `{"name": "x", "version": "1", "kinds": ["storage"], "command": "x", "sha": "abc"}`, `unknown field "sha"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plugin.ReadManifest(writeManifest(t, tc.manifest))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestVerifyChecksumNeedsStamp(t *testing.T) {
	dir := writeManifest(t, `{"name": "x", "version": "1", "kinds": ["storage"], "command": "x", "sha256": ""}`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), []byte("binary"), 0o755))
	m, err := plugin.ReadManifest(dir)
	require.NoError(t, err)
	err = m.VerifyChecksum()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hub plugins stamp")

	stamped, err := plugin.Stamp(dir)
	require.NoError(t, err)
	assert.Len(t, stamped.SHA256, 64)
	assert.NoError(t, stamped.VerifyChecksum())
}
