package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/policy"
)

func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test, evaluate and explain the Rego access policies",
	}
	cmd.AddCommand(newPolicyTestCommand(), newPolicyEvalCommand(), newPolicyExplainCommand())
	return cmd
}

// policyFlags are the flags the policy commands share.
type policyFlags struct {
	configFile string
	dir        string
}

func (f *policyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configFile, "config", "", "hub configuration file (YAML), the one hub serve takes; its policy section and HUB_POLICY_* variables are read")
	cmd.Flags().StringVar(&f.dir, "dir", "", "policy directory (default: the configured dir, else the embedded policies)")
}

// config returns the policy section of the hub configuration, loaded as hub
// serve loads it (file, then HUB_* variables), with the directory flag over
// it.
func (f *policyFlags) config(stderr io.Writer) (policy.Config, error) {
	hub, err := loadConfig(f.configFile, stderr)
	if err != nil {
		return policy.Config{}, err
	}
	cfg := hub.Policy
	if f.dir != "" {
		cfg.Dir = f.dir
	}
	cfg.Watch = false
	return cfg, nil
}

func newPolicyTestCommand() *cobra.Command {
	var flags policyFlags
	var minCoverage float64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the Rego tests of the policies with line coverage",
		Long: `Run the *_test.rego tests of the policy directory (DIR, else the configured
directory, else the embedded policies) and measure the line coverage of the
policy files. Fails when a test fails or the coverage is below the
configured min_coverage (90% by default) or --min-coverage.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				flags.dir = args[0]
			}
			cfg, err := flags.config(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			threshold := cfg.EffectiveMinCoverage()
			if cmd.Flags().Changed("min-coverage") {
				if minCoverage < 0 || minCoverage > 100 {
					return &ExitError{Code: ExitUsage, Err: fmt.Errorf("policy test: --min-coverage %v is out of range: use a percentage from 0 to 100", minCoverage)}
				}
				threshold = minCoverage
			}
			report, err := policy.RunTests(cmd.Context(), cfg.Dir)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return printTestReport(cmd.OutOrStdout(), report, threshold, asJSON)
		},
	}
	flags.register(cmd)
	cmd.Flags().Float64Var(&minCoverage, "min-coverage", 0, "minimum line coverage in percent (default: the configured min_coverage, else 90)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func printTestReport(w io.Writer, report *policy.TestReport, threshold float64, asJSON bool) error {
	passed, failed, skipped := report.Counts()
	low := report.Coverage < threshold
	if asJSON {
		if err := writeJSON(w, report); err != nil {
			return err
		}
	} else {
		for _, r := range report.Results {
			if r.Pass || r.Skip {
				continue
			}
			fmt.Fprintf(w, "FAIL %s:%d %s.%s\n", r.File, r.Row, r.Package, r.Name)
			if r.Error != "" {
				fmt.Fprintf(w, "     %s\n", r.Error)
			}
			if r.Output != "" {
				fmt.Fprintf(w, "     %s\n", strings.ReplaceAll(strings.TrimSpace(r.Output), "\n", "\n     "))
			}
		}
		for _, f := range report.Files {
			fmt.Fprintf(w, "coverage %6.2f%% %s", f.Coverage, f.File)
			if len(f.NotCovered) > 0 {
				fmt.Fprintf(w, " (rows not covered: %s)", strings.Join(f.NotCovered, ", "))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "coverage %.2f%% of %s (minimum %.2f%%)\n", report.Coverage, report.Source, threshold)
		fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	}
	switch {
	case failed > 0:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("policy test: %d of %d Rego tests failed", failed, passed+failed)}
	case low:
		coverage, minimum := distinctPercents(report.Coverage, threshold)
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("policy test: line coverage %s%% is below the minimum %s%%: add tests for the rows listed", coverage, minimum)}
	}
	return nil
}

// distinctPercents formats a and b with two decimals, or with as many more
// as it takes to tell them apart, up to six.
func distinctPercents(a, b float64) (string, string) {
	for decimals := 2; ; decimals++ {
		x, y := strconv.FormatFloat(a, 'f', decimals, 64), strconv.FormatFloat(b, 'f', decimals, 64)
		if x != y || decimals == 6 {
			return x, y
		}
	}
}

// decideCommand holds what eval and explain share.
type decideCommand struct {
	flags     policyFlags
	inputFile string
}

func (d *decideCommand) register(cmd *cobra.Command) {
	d.flags.register(cmd)
	cmd.Flags().StringVar(&d.inputFile, "input", "", `input document (JSON, see docs/policy.md); "-" reads standard input`)
	_ = cmd.MarkFlagRequired("input")
}

func (d *decideCommand) load(cmd *cobra.Command) (*policy.Engine, []byte, error) {
	input, err := readInput(cmd.InOrStdin(), d.inputFile)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("read input: %w", err)}
	}
	cfg, err := d.flags.config(cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine, err := policy.New(cmd.Context(), cfg, logger)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitFailure, Err: err}
	}
	return engine, input, nil
}

func newPolicyEvalCommand() *cobra.Command {
	var d decideCommand
	cmd := &cobra.Command{
		Use:   "eval --input FILE [--dir DIR]",
		Short: "Print the decision and its obligations for an input",
		Long: `Evaluate the decision for the input document and print it as JSON. The
exit status is 0 for a decision, allow or deny, and 1 when the policy could
not decide (the printed decision then denies with reason policy.error).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			engine, input, err := d.load(cmd)
			if err != nil {
				return err
			}
			defer engine.Close()
			decision, decideErr := engine.DecideJSON(cmd.Context(), input)
			if err := writeJSON(cmd.OutOrStdout(), decision); err != nil {
				return err
			}
			return decisionError(decideErr)
		},
	}
	d.register(cmd)
	return cmd
}

func newPolicyExplainCommand() *cobra.Command {
	var d decideCommand
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain --input FILE [--dir DIR]",
		Short: "Show which policy rules produced the decision for an input",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			engine, input, err := d.load(cmd)
			if err != nil {
				return err
			}
			defer engine.Close()
			ex, explainErr := engine.Explain(cmd.Context(), input)
			w := cmd.OutOrStdout()
			if asJSON {
				err = writeJSON(w, ex)
			} else {
				err = printExplanation(w, ex)
			}
			if err != nil {
				return err
			}
			return decisionError(explainErr)
		},
	}
	d.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the explanation as JSON")
	return cmd
}

func printExplanation(w io.Writer, ex policy.Explanation) error {
	verdict := "deny"
	if ex.Decision.Allow {
		verdict = "allow"
	}
	fmt.Fprintf(w, "decision %s (%s)\n", verdict, ex.Decision.ID)
	for _, r := range ex.Decision.Reasons {
		fmt.Fprintf(w, "  reason %s: %s\n", r.Code, r.Message)
	}
	fmt.Fprintln(w, "rules that succeeded:")
	for _, hit := range ex.Rules {
		suffix := ""
		if hit.Default {
			suffix = " (default)"
		}
		fmt.Fprintf(w, "  %s:%d %s%s\n", hit.File, hit.Row, hit.Rule, suffix)
	}
	return nil
}

func decisionError(err error) error {
	if err == nil {
		return nil
	}
	code := ExitFailure
	if errors.Is(err, policy.ErrInvalidInput) {
		code = ExitUsage
	}
	return &ExitError{Code: code, Err: err}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
