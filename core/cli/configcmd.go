package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/config"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration and list its environment variables",
	}
	cmd.AddCommand(newConfigCheckCommand(), newConfigEnvCommand())
	return cmd
}

func newConfigCheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check [--config FILE]",
		Short: "Validate the configuration file and HUB_* variables without starting the hub",
		Args:  cobra.NoArgs,
	}
	configPath := addConfigFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if _, err := loadConfig(*configPath, cmd.ErrOrStderr()); err != nil {
			return &ExitError{Code: ExitFailure, Err: err}
		}
		_, err := fmt.Fprintln(cmd.OutOrStdout(), "configuration is valid")
		return err
	}
	return cmd
}

func newConfigEnvCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "List every HUB_* environment variable and the key it sets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			table := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(table, "VARIABLE\tKEY")
			for _, entry := range config.EnvNames() {
				fmt.Fprintf(table, "%s\t%s\n", entry[0], entry[1])
			}
			return table.Flush()
		},
	}
}
