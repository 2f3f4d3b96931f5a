package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/spf13/cobra"
)

func newAuditExportCommand() *cobra.Command {
	var flags auditFlags
	var since, until, format, output, patient, subject, level string
	var review bool
	var ndjson bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write audit events as FHIR AuditEvent resources",
		Long: `Write the audit events recorded at or after --since (required) and before
--until as FHIR R4 AuditEvent resources: one Bundle of type collection, or
with --ndjson one resource per line. --patient gives a patient's
accounting of disclosures; --subject, --review and --level narrow the
events as GET /v1/audit does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "fhir" {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("audit export: unknown --format %q: use fhir", format)}
			}
			if level != "" && level != audit.LevelStandard && level != audit.LevelHigh {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("audit export: --level %q: use %s or %s", level, audit.LevelStandard, audit.LevelHigh)}
			}
			filter := audit.Filter{Tenant: flags.tenant, Patient: patient, Subject: subject, Review: review, Level: level}
			var err error
			if filter.Since, err = parseTime("--since", since); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if until != "" {
				if filter.Until, err = parseTime("--until", until); err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
			}
			return runExport(cmd, flags, filter, ndjson, output)
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&since, "since", "", "export events at or after this time (required): RFC 3339 (2025-03-01T00:00:00Z) or a date (2025-03-01, UTC)")
	cmd.Flags().StringVar(&until, "until", "", "export events before this time, in the form of --since")
	cmd.Flags().StringVar(&format, "format", "fhir", "output format; fhir is the only one")
	cmd.Flags().BoolVar(&ndjson, "ndjson", false, "write newline-delimited AuditEvents instead of one Bundle")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&patient, "patient", "", "export only the events about this patient id")
	cmd.Flags().StringVar(&subject, "subject", "", "export only the events of this subject")
	cmd.Flags().BoolVar(&review, "review", false, "export only the events flagged for review")
	cmd.Flags().StringVar(&level, "level", "", "export only the events of this audit level: standard or high")
	_ = cmd.MarkFlagRequired("since")
	return cmd
}

func runExport(cmd *cobra.Command, flags auditFlags, filter audit.Filter, ndjson bool, output string) error {
	cfg, err := flags.settings(cmd)
	if err != nil {
		return err
	}
	log, err := openAuditReadOnly(cmd.Context(), cfg)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	defer log.Close()

	var w io.Writer = cmd.OutOrStdout()
	if output != "" {
		f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("audit export: %w", err)}
		}
		defer f.Close()
		w = f
	}
	format := audit.FormatBundle
	if ndjson {
		format = audit.FormatNDJSON
	}
	n, err := log.Export(cmd.Context(), w, filter, format)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if output != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "exported %d audit events to %s\n", n, output)
	}
	return nil
}

func parseTime(flag, value string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, value); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("audit export: %s %q: use RFC 3339 such as 2025-03-01T00:00:00Z, or a date such as 2025-03-01", flag, value)
}
