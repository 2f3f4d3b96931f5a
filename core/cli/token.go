package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/daemon"
)

func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Issue bearer tokens signed with the hub's key",
	}
	cmd.AddCommand(newTokenIssueCommand())
	return cmd
}

func newTokenIssueCommand() *cobra.Command {
	var req auth.TokenRequest
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "issue --subject S --role R --tenant T [--patient P] [--scope SCOPE]... [--ttl D]",
		Short: "Print a token for a subject, signed with the hub's Ed25519 key",
		Long: `Print a JWT signed with the hub's Ed25519 key (EdDSA) to standard output,
for an Authorization: Bearer header. The key is the file token-signing.key
in the data directory, created on first use. The running hub must use the
same data directory to accept the token.`,
		Example: `  hub token issue --subject dr-lee --role clinician --tenant north --ttl 8h
  hub token issue --subject amy --role patient --tenant north --patient p-42 --scope 'patient/*.rs'`,
		Args: cobra.NoArgs,
	}
	configPath := addConfigFlag(cmd)
	flags := cmd.Flags()
	flags.StringVar(&req.Subject, "subject", "", "subject id, the token's sub claim (required)")
	flags.StringSliceVar(&req.Roles, "role", nil, "role, such as clinician, nurse, billing or patient; repeat or separate with commas (required)")
	flags.StringVar(&req.Tenant, "tenant", "", "tenant the subject acts for (required)")
	flags.StringVar(&req.Patient, "patient", "", "patient id a patient-role token is bound to")
	flags.StringArrayVar(&req.Scopes, "scope", nil, "SMART v2 scope, such as patient/Observation.rs; repeat for more")
	flags.DurationVar(&req.TTL, "ttl", 0, "token lifetime, such as 30m or 8h (default auth.token_ttl, 1h)")
	flags.BoolVar(&asJSON, "json", false, "print the token, its id and expiry as JSON")
	for _, name := range []string{"subject", "role", "tenant"} {
		_ = cmd.MarkFlagRequired(name)
	}

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(*configPath, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		key, err := loadOrCreateSigningKey(daemon.TokenKeyPath(cfg))
		if err != nil {
			return err
		}
		issuer, err := auth.NewIssuer(key, cfg.Auth)
		if err != nil {
			return err
		}
		issued, err := issuer.Issue(req)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		if len(req.Scopes) == 0 && !cfg.Policy.AllowMissingScopes {
			fmt.Fprintln(cmd.ErrOrStderr(), "hub: warning: the token carries no SMART scopes, and the policies deny /fhir requests without scopes: add --scope, such as --scope 'user/*.rs'")
		}
		if asJSON {
			return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{
				"token": issued.Token, "id": issued.ID, "expires_at": issued.ExpiresAt.UTC().Format(time.RFC3339),
			})
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), issued.Token)
		return err
	}
	return cmd
}
