package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/config"
)

// addConfigFlag adds --config to cmd and returns where its value lands.
func addConfigFlag(cmd *cobra.Command) *string {
	path := new(string)
	cmd.Flags().StringVar(path, "config", "", "configuration file (YAML); HUB_* environment variables override it")
	return path
}

// loadConfig loads the configuration and warns on stderr about HUB_*
// variables that set no key.
func loadConfig(path string, stderr io.Writer) (*config.Config, error) {
	cfg, unknown, err := config.Load(path, os.Environ())
	if len(unknown) > 0 {
		fmt.Fprintf(stderr, "hub: warning: ignoring environment variables that name no configuration key: %s (see hub config env)\n", strings.Join(unknown, ", "))
	}
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return cfg, nil
}
