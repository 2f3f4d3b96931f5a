package cli

import (
	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/daemon"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub daemon until interrupted",
		Long: `Run the hub daemon: the REST API under /fhir and /v1, health checks,
metrics and the API description at /openapi.json. With no configuration
it listens on 127.0.0.1:8080 and keeps its data in ./data. SIGINT or
SIGTERM drains requests in flight and stops the hub.`,
		Args: cobra.NoArgs,
	}
	configPath := addConfigFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(*configPath, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		logger := cfg.Logging.NewLogger(cmd.ErrOrStderr())
		key, err := loadOrCreateSigningKey(daemon.TokenKeyPath(cfg))
		if err != nil {
			return err
		}
		hub, err := daemon.New(cmd.Context(), cfg, key, logger)
		if err != nil {
			return err
		}
		if err := hub.Run(cmd.Context()); err != nil {
			return &ExitError{Code: ExitFailure, Err: err}
		}
		return nil
	}
	return cmd
}
