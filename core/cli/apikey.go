package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/auth"
)

func newAPIKeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Create, list and revoke API keys of service accounts",
		Long: `API keys authenticate service accounts with Authorization: Bearer <key>.
The hub stores only the SHA-256 of each key's secret, in auth.api_keys_file
(default apikeys.json in the data directory); a running hub notices
changes within seconds.`,
	}
	cmd.AddCommand(newAPIKeyCreateCommand(), newAPIKeyListCommand(), newAPIKeyRevokeCommand())
	return cmd
}

func newAPIKeyCreateCommand() *cobra.Command {
	var spec auth.APIKeySpec
	cmd := &cobra.Command{
		Use:     "create --subject S --role R --tenant T [--scope SCOPE]... [--ttl D] [--description TEXT]",
		Short:   "Create an API key and print it once",
		Example: `  hub apikey create --subject lab-feed --role service --tenant north --scope 'system/Observation.c' --description "nightly lab import"`,
		Args:    cobra.NoArgs,
	}
	configPath := addConfigFlag(cmd)
	flags := cmd.Flags()
	flags.StringVar(&spec.Subject, "subject", "", "service account id (required)")
	flags.StringSliceVar(&spec.Roles, "role", nil, "role, such as service; repeat or separate with commas (required)")
	flags.StringVar(&spec.Tenant, "tenant", "", "tenant the service account acts for (required)")
	flags.StringArrayVar(&spec.Scopes, "scope", nil, "SMART v2 scope, such as system/Observation.c; repeat for more")
	flags.DurationVar(&spec.TTL, "ttl", 0, "key lifetime, such as 720h; 0 means the key does not expire")
	flags.StringVar(&spec.Description, "description", "", "what the key is for, shown by hub apikey list")
	for _, name := range []string{"subject", "role", "tenant"} {
		_ = cmd.MarkFlagRequired(name)
	}

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		store, err := openKeyStore(*configPath, cmd)
		if err != nil {
			return err
		}
		key, record, err := store.Create(spec, time.Now())
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "created API key %s for %s; it is shown once, store it now\n", record.ID, record.Subject)
		_, err = fmt.Fprintln(cmd.OutOrStdout(), key)
		return err
	}
	return cmd
}

func newAPIKeyListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API keys without their secrets",
		Args:  cobra.NoArgs,
	}
	configPath := addConfigFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		store, err := openKeyStore(*configPath, cmd)
		if err != nil {
			return err
		}
		table := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(table, "ID\tSUBJECT\tTENANT\tROLES\tCREATED\tEXPIRES\tDESCRIPTION")
		for _, key := range store.List() {
			expires := "never"
			if !key.ExpiresAt.IsZero() {
				expires = key.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", key.ID, key.Subject, key.Tenant,
				strings.Join(key.Roles, ","), key.CreatedAt.Format(time.RFC3339), expires, key.Description)
		}
		return table.Flush()
	}
	return cmd
}

func newAPIKeyRevokeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key by its id",
		Args:  cobra.ExactArgs(1),
	}
	configPath := addConfigFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		store, err := openKeyStore(*configPath, cmd)
		if err != nil {
			return err
		}
		if err := store.Revoke(args[0], time.Now()); err != nil {
			return &ExitError{Code: ExitFailure, Err: err}
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked API key %s\n", args[0])
		return err
	}
	return cmd
}

func openKeyStore(configPath string, cmd *cobra.Command) (*auth.KeyStore, error) {
	cfg, err := loadConfig(configPath, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	return auth.OpenKeyStore(cfg.APIKeysPath())
}
