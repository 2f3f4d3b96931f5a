package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/plugin"
)

func newPluginsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List, verify and stamp provider plugins",
	}
	cmd.AddCommand(newPluginsListCommand(), newPluginsVerifyCommand(), newPluginsStampCommand())
	return cmd
}

func newPluginsListCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Launch every plugin in the plugin directory and print its name, version, kinds, health and pid",
		Long: "Launch every plugin in the plugin directory with its manifest's default configuration, " +
			"check its health, print one line per plugin and stop them all. " +
			"Exits with status 1 when a plugin fails to load or is unhealthy.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listPlugins(cmd.Context(), dir, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", plugin.DefaultDir, "plugin directory: one subdirectory per plugin with its manifest.json")
	return cmd
}

func listPlugins(ctx context.Context, dir string, out, errOut io.Writer) error {
	logger := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	host := plugin.New(plugin.Config{Dir: dir}, logger)
	defer host.Close()
	startErr := host.Start(ctx)

	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tKINDS\tHEALTH\tPID")
	unhealthy := false
	for _, s := range host.Statuses() {
		health := "ok"
		if err := host.CheckHealth(ctx, s.Name); err != nil {
			health, unhealthy = "unhealthy: "+err.Error(), true
		}
		kinds := make([]string, len(s.Kinds))
		for i, k := range s.Kinds {
			kinds[i] = string(k)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", s.Name, s.Version, strings.Join(kinds, ","), health, s.PID)
	}
	if err := w.Flush(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if startErr != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("list plugins: %w", startErr)}
	}
	if unhealthy {
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

func newPluginsVerifyCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every plugin binary against the SHA-256 in its manifest, without running it",
		Long: "Check every plugin binary against the SHA-256 in its manifest and report executables " +
			"that no manifest lists. Exits with status 1 when any check fails.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return verifyPlugins(dir, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", plugin.DefaultDir, "plugin directory: one subdirectory per plugin with its manifest.json")
	return cmd
}

func verifyPlugins(dir string, out io.Writer) error {
	manifests, problems := plugin.Discover(dir)
	failed := len(problems) > 0
	for _, m := range manifests {
		if err := m.VerifyChecksum(); err != nil {
			fmt.Fprintf(out, "FAIL  %s\n", err)
			failed = true
			continue
		}
		fmt.Fprintf(out, "ok    %s %s sha256:%s\n", m.Name, m.Version, m.SHA256)
	}
	for _, err := range problems {
		fmt.Fprintf(out, "FAIL  %s\n", err)
	}
	if failed {
		return &ExitError{Code: ExitFailure}
	}
	if len(manifests) == 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("verify plugins: no plugin found in %s", dir)}
	}
	return nil
}

func newPluginsStampCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stamp PLUGIN_DIR...",
		Short: "Write the SHA-256 of each plugin binary into the manifest beside it",
		Long: "Write the SHA-256 of the binary named by each directory's manifest.json into that manifest. " +
			"Run it after every build of a plugin; the hub refuses a binary whose checksum differs.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			var errs []error
			for _, dir := range dirs {
				m, err := plugin.Stamp(dir)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "stamped %s %s sha256:%s\n", m.Name, m.Version, m.SHA256)
			}
			if err := errors.Join(errs...); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return nil
		},
	}
}
