package cli

import (
	"errors"
	"fmt"

	"github.com/healthhub/healthhub/core/fhir"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/sdk"
	"github.com/spf13/cobra"
)

type validateOptions struct {
	resourceType string
	strict       bool
	schemaDir    string
}

func newValidateCommand() *cobra.Command {
	var opts validateOptions
	cmd := &cobra.Command{
		Use:   "validate [--type T] [--strict] [--schema-dir DIR] FILE...",
		Short: "Validate FHIR resources in JSON files against the hub's schemas",
		Long: `Validate FHIR resources in JSON files against the hub's schemas.

Each FILE holds one resource, such as a Patient or a Bundle; "-" reads
standard input. For every invalid file, validate prints a FHIR
OperationOutcome on standard output and a one-line summary on standard
error.

Exit status: 0 when every file is valid, 1 when any file is invalid, 2 on
bad usage or when a file or the schema directory cannot be read.`,
		Args:                  cobra.MinimumNArgs(1),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd, opts, args)
		},
	}
	cmd.Flags().StringVar(&opts.resourceType, "type", "", "resource type every file must have, such as Patient (default: the type each file names)")
	cmd.Flags().BoolVar(&opts.strict, "strict", false, "validate against the official FHIR R4 JSON Schema")
	cmd.Flags().StringVar(&opts.schemaDir, "schema-dir", "", "directory of schemas that replace or add to the embedded ones")
	return cmd
}

func runValidate(cmd *cobra.Command, opts validateOptions, files []string) error {
	ctx := cmd.Context()
	v, err := schema.New(ctx, schema.Config{Dir: opts.schemaDir, Strict: opts.strict}, nil)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if opts.resourceType != "" && !v.HasResourceType(opts.resourceType) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("validate: unknown resource type %q for --type; known types: %v", opts.resourceType, v.ResourceTypes())}
	}

	invalid, failed := 0, 0
	for _, file := range files {
		data, err := readInput(cmd.InOrStdin(), file)
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "hub: validate %s: %v\n", file, err)
			failed++
			continue
		}
		err = v.Validate(ctx, opts.resourceType, data)
		var outcome *sdk.Outcome
		switch {
		case err == nil:
			continue
		case errors.As(err, &outcome):
			invalid++
			fmt.Fprintf(cmd.ErrOrStderr(), "hub: %s: invalid: %v\n", file, outcome)
			if _, err := cmd.OutOrStdout().Write(fhir.MarshalOperationOutcome(outcome)); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
		default:
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("validate %s: %w", file, err)}
		}
	}

	switch {
	case failed > 0:
		return &ExitError{Code: ExitUsage}
	case invalid > 0:
		return &ExitError{Code: ExitFailure}
	}
	return nil
}
