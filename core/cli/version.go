package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/healthhub/healthhub/sdk"
	"github.com/spf13/cobra"
)

// Version is the hub's version, set at build time with
// -ldflags "-X github.com/healthhub/healthhub/core/cli.Version=1.2.3".
var Version = "dev"

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the hub version, the plugin protocol version and the Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			goVersion := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				goVersion = info.GoVersion
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "hub %s (plugin protocol %d, %s)\n", Version, sdk.ProtocolVersion, goVersion)
			return err
		},
	}
}
