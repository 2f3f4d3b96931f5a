// Command garbage is a test plugin that prints to stdout before the
// handshake, which the host must reject with the printed text quoted.
package main

import (
	"fmt"
	"os"

	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	fmt.Println("debug: connecting to the database")
	store, err := fsstore.New(fsstore.Config{Root: os.TempDir()})
	if err != nil {
		os.Exit(1)
	}
	info := fsstore.Info()
	info.Name = "garbage"
	sdk.Serve(sdk.Provider{Info: info, Storage: store})
}
