// Command flaky is a test plugin that crashes on every storage call, so
// that the host's circuit breaker opens after a few calls.
package main

import (
	"context"
	"io"
	"os"

	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
)

// crashingStore exits the process with status 3 in the middle of any call.
type crashingStore struct{}

func (crashingStore) Put(context.Context, string, io.Reader, sdk.PutOptions) (sdk.ObjectInfo, error) {
	os.Exit(3)
	return sdk.ObjectInfo{}, nil
}

func (crashingStore) Get(context.Context, string) (io.ReadCloser, sdk.ObjectInfo, error) {
	os.Exit(3)
	return nil, sdk.ObjectInfo{}, nil
}

func (crashingStore) Stat(context.Context, string) (sdk.ObjectInfo, error) {
	os.Exit(3)
	return sdk.ObjectInfo{}, nil
}

func (crashingStore) Delete(context.Context, string) error {
	os.Exit(3)
	return nil
}

func (crashingStore) List(context.Context, sdk.ListOptions) (sdk.ListPage, error) {
	os.Exit(3)
	return sdk.ListPage{}, nil
}

func main() {
	info := fsstore.Info()
	info.Name = "flaky"
	sdk.Serve(sdk.Provider{Info: info, Storage: crashingStore{}})
}
