package policies

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded set must be exactly the Rego files of this directory, so
// that the hub's defaults are what `opa test policies/` checks.
func TestEmbeddedFilesMatchDirectory(t *testing.T) {
	onDisk, err := filepath.Glob("*.rego")
	require.NoError(t, err)
	embedded, err := fs.Glob(FS, "*.rego")
	require.NoError(t, err)
	assert.Equal(t, onDisk, embedded)

	for _, name := range embedded {
		want, err := os.ReadFile(name)
		require.NoError(t, err)
		got, err := fs.ReadFile(FS, name)
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
}
