package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin/plugintest"
)

// buildStorageFS builds the storage-fs plugin into a fresh plugin
// directory and returns the directory.
func buildStorageFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, err := plugintest.Build("plugins/storage/fs", dir)
	require.NoError(t, err)
	return dir
}

func TestPluginsCommands(t *testing.T) {
	dir := buildStorageFS(t)
	t.Chdir(t.TempDir()) // storage-fs's default root is relative to the working directory

	code, out, errOut := runHub(t, "plugins", "verify", "--dir", dir)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, `ok\s+storage-fs 0\.1\.0 sha256:[0-9a-f]{64}`, out)

	code, out, errOut = runHub(t, "plugins", "list", "--dir", dir)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, regexp.MustCompile(`(?m)^storage-fs\s+0\.1\.0\s+storage\s+ok\s+[1-9][0-9]*$`), out)

	binary := filepath.Join(dir, "storage-fs", "storage-fs")
	f, err := os.OpenFile(binary, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("tampered")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, out, _ = runHub(t, "plugins", "verify", "--dir", dir)
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, out, `verify plugin "storage-fs": checksum mismatch: manifest says`)

	code, out, _ = runHub(t, "plugins", "list", "--dir", dir)
	assert.Equal(t, ExitFailure, code)
	assert.NotContains(t, out, "storage-fs ", "a rejected plugin is not listed")

	code, out, errOut = runHub(t, "plugins", "stamp", filepath.Join(dir, "storage-fs"))
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "stamped storage-fs")
	code, _, _ = runHub(t, "plugins", "verify", "--dir", dir)
	assert.Equal(t, ExitOK, code, "the restamped binary verifies")
}

func TestPluginsVerifyEmptyDir(t *testing.T) {
	code, _, errOut := runHub(t, "plugins", "verify", "--dir", t.TempDir())
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, errOut, "no plugin found")
}
