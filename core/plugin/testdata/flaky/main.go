// Command flaky is a test plugin that serves storage and exits on its own
// shortly after each start, so that the host's circuit breaker opens.
package main

import (
	"os"
	"time"

	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	root, err := os.MkdirTemp("", "flaky-plugin-")
	if err != nil {
		os.Exit(1)
	}
	store, err := fsstore.New(fsstore.Config{Root: root})
	if err != nil {
		os.Exit(1)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.RemoveAll(root)
		os.Exit(3)
	}()
	info := fsstore.Info()
	info.Name = "flaky"
	sdk.Serve(sdk.Provider{Info: info, Storage: store})
}
