package sdktest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

func newFSStore(t *testing.T) *fsstore.Store {
	t.Helper()
	store, err := fsstore.New(fsstore.Config{Root: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	return store
}

func TestStorageSuiteInProcess(t *testing.T) {
	sdktest.Storage(t, func(t *testing.T) sdk.Storage { return newFSStore(t) })
}

func TestStorageSuiteLoopback(t *testing.T) {
	sdktest.Storage(t, func(t *testing.T) sdk.Storage {
		remote := sdktest.Loopback(t, sdk.Provider{Info: fsstore.Info(), Storage: newFSStore(t)})
		return remote.Storage
	})
}
