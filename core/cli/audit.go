package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/keys"
	"github.com/spf13/cobra"
)

// auditFlags are the database flags shared by the audit subcommands.
type auditFlags struct {
	configFile  string
	dataDir     string
	databaseURL string
	tenant      string
}

func (f *auditFlags) register(cmd *cobra.Command) {
	f.registerDatabase(cmd)
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "check or export only this tenant (default: every tenant)")
}

func (f *auditFlags) registerDatabase(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configFile, "config", "", "hub configuration file (YAML), the one hub serve takes; its audit section and data_dir are read")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "./data", "hub data directory holding audit.db and the audit key; overrides --config and HUB_DATA_DIR")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL of the audit database; overrides --config and the SQLite file in --data-dir")
}

// settings returns the audit trail's database configuration, whose DataDir
// is where the audit key is: the hub configuration's (the --config file and
// HUB_* variables, as hub serve reads them), with --data-dir and
// --database-url over it.
func (f *auditFlags) settings(cmd *cobra.Command) (audit.Config, error) {
	hub, err := loadConfig(f.configFile, cmd.ErrOrStderr())
	if err != nil {
		return audit.Config{DataDir: f.dataDir}, err
	}
	cfg := hub.Audit
	if cfg.DataDir == "" {
		cfg.DataDir = hub.DataPath()
	}
	if cmd.Flags().Changed("data-dir") {
		cfg = audit.Config{DataDir: f.dataDir}
	}
	if f.databaseURL != "" {
		cfg = audit.Config{Driver: "postgres", URL: f.databaseURL, DataDir: cfg.DataDir}
	}
	return cfg, nil
}

// openAuditReadOnly opens the audit trail of cfg read-only. A SQLite database that does
// not exist is an error, not a new empty database.
func openAuditReadOnly(ctx context.Context, cfg audit.Config) (*audit.Log, error) {
	if cfg.Driver == "" || cfg.Driver == "sqlite" {
		path := audit.DatabasePath(cfg.DataDir, cfg.Path)
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("open audit trail: no database at %s: pass the hub's --config, --data-dir or --database-url", path)
			}
			return nil, fmt.Errorf("open audit trail: %w", err)
		}
	}
	return audit.Open(ctx, cfg, audit.Options{})
}

func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the tamper-evident audit trail",
	}
	cmd.AddCommand(newAuditVerifyCommand(), newAuditExportCommand(), newAuditPublicKeyCommand())
	return cmd
}

func newAuditPublicKeyCommand() *cobra.Command {
	var flags auditFlags
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Print the public half of the audit signing key, PEM",
		Long: `Print the public key that verifies the audit trail's signed checkpoints,
as a PKIX PEM block. Auditors run hub audit verify --key with it, without
access to the private key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.settings(cmd)
			if err != nil {
				return err
			}
			pub, err := keys.LoadPublic(audit.KeyPath(cfg.DataDir))
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("audit public-key: %w: pass the hub's --config or --data-dir", err)}
			}
			block, err := keys.EncodePublic(pub)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(block)
			return err
		},
	}
	flags.registerDatabase(cmd)
	return cmd
}
