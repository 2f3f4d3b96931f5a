package cli

import (
	"fmt"
	"strconv"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/keys"
	"github.com/spf13/cobra"
)

func newAuditVerifyCommand() *cobra.Command {
	var flags auditFlags
	var keyPath string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit hash chains and signed checkpoints offline",
		Long: `Check every event of the audit trail: the hash chain of each tenant, the
signed checkpoints, and the chain heads. Exit status 0 means every chain is
valid, 1 means a chain is broken (the first broken event is printed), and 2
means the check could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.settings(cmd)
			if err != nil {
				return err
			}
			if keyPath == "" {
				keyPath = audit.KeyPath(cfg.DataDir)
			}
			pub, err := keys.LoadPublic(keyPath)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("audit verify: %w: pass the hub's --config, or --key with the hub's audit key or its public key (hub audit public-key)", err)}
			}
			log, err := openAuditReadOnly(cmd.Context(), cfg)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			defer log.Close()

			report, err := log.Verify(cmd.Context(), flags.tenant, pub)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			out := cmd.OutOrStdout()
			if report.Broken != nil {
				fmt.Fprintf(out, "audit chain broken: %s\n", report.Broken)
				return &ExitError{Code: ExitFailure}
			}
			_, err = fmt.Fprintf(out, "audit chain valid: %s, %s, %s\n",
				count(int64(report.Tenants), "tenant"), count(int64(report.Events), "event"), count(int64(report.Checkpoints), "signed checkpoint"))
			return err
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&keyPath, "key", "", "audit signing key or its public key, PEM (default: DATA_DIR/"+audit.KeyFile+")")
	return cmd
}

// count writes n with the noun, in the plural unless n is 1.
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
