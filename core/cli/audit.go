package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/spf13/cobra"
)

// auditFlags are the database flags shared by the audit subcommands.
type auditFlags struct {
	dataDir     string
	databaseURL string
	tenant      string
}

func (f *auditFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "./data", "hub data directory holding audit.db and the audit key")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL of the hub database; overrides the SQLite file in --data-dir")
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "check or export only this tenant (default: every tenant)")
}

// open opens the audit trail read-only. A SQLite database that does not
// exist is an error, not a new empty database.
func (f *auditFlags) open(ctx context.Context) (*audit.Log, error) {
	cfg := audit.Config{DataDir: f.dataDir}
	if f.databaseURL != "" {
		cfg = audit.Config{Driver: "postgres", URL: f.databaseURL}
	} else {
		path := audit.DatabasePath(f.dataDir, "")
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("open audit trail: no database at %s: pass the hub's --data-dir or --database-url", path)
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
	cmd.AddCommand(newAuditVerifyCommand(), newAuditExportCommand())
	return cmd
}
