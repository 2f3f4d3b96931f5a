package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	// ExitOK means the command did what was asked.
	ExitOK = 0
	// ExitFailure means the command ran and found a problem, such as an
	// invalid file or a broken audit chain.
	ExitFailure = 1
	// ExitUsage means the command could not run: bad flags or arguments,
	// or an I/O error.
	ExitUsage = 2
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// ExitError carries the exit code a command wants, with the error to print.
// A nil Err prints nothing, for commands that already wrote their report.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Main runs the hub command line with args (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, streams Streams) int {
	root := NewRootCommand(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}

	var exitErr *ExitError
	if errors.As(err, &exitErr) {
		if exitErr.Err != nil {
			fmt.Fprintf(streams.Err, "hub: %v\n", exitErr.Err)
		}
		return exitErr.Code
	}
	fmt.Fprintf(streams.Err, "hub: %v\n", err)
	return ExitUsage
}

// NewRootCommand returns the hub command with every subcommand added.
func NewRootCommand(streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "hub",
		Short:         "HealthHub: a policy-governed integration hub for healthcare services",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)

	root.AddCommand(
		newVersionCommand(),
		newServeCommand(),
		newTokenCommand(),
		newAPIKeyCommand(),
		newConfigCommand(),
		newImportCommand(),
		newAuditCommand(),
		newPluginsCommand(),
		newPolicyCommand(),
		newValidateCommand(),
		newJobsCommand(),
	)
	return root
}
