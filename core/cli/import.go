package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newImportCommand() *cobra.Command {
	var hubURL, token string
	var batchSize int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "import FILE... --url URL --token TOKEN",
		Short: "Post transaction Bundles or NDJSON files to a running hub",
		Long: `Post files to a running hub's /fhir endpoint and print what was created
and what failed, with reasons.

A transaction or batch Bundle is posted as it is; a transaction imports
all its entries or none. A file ending in .ndjson holds one resource per
line and is posted as batch Bundles of --batch-size resources, in which
resources with an id keep it (PUT) and the others get one (POST). A file
with one resource is posted as a batch of one.

The exit status is 0 when every resource imported and 1 otherwise.`,
		Example: `  hub import testdata/synthea-companion/practitioners-organizations-locations.json --url http://127.0.0.1:8080 --token "$TOKEN"
  hub import export/Patient.ndjson export/Observation.ndjson --url http://127.0.0.1:8080 --token "$TOKEN"`,
		Args: cobra.MinimumNArgs(1),
	}
	flags := cmd.Flags()
	flags.StringVar(&hubURL, "url", "http://127.0.0.1:8080", "base URL of the hub")
	flags.StringVar(&token, "token", "", "bearer token or API key (default $HUB_TOKEN)")
	flags.IntVar(&batchSize, "batch-size", 100, "resources per batch Bundle for NDJSON files")
	flags.DurationVar(&timeout, "timeout", 5*time.Minute, "time limit of one request")

	cmd.RunE = func(cmd *cobra.Command, files []string) error {
		if token == "" {
			token = os.Getenv("HUB_TOKEN")
		}
		if token == "" {
			return &ExitError{Code: ExitUsage, Err: errors.New("import: no credential: pass --token or set HUB_TOKEN")}
		}
		if batchSize < 1 {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("import: --batch-size %d must be at least 1", batchSize)}
		}
		endpoint, err := url.JoinPath(hubURL, "fhir")
		if err != nil || !strings.HasPrefix(hubURL, "http") {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("import: --url %q is not an http or https URL", hubURL)}
		}

		summary := newImportSummary()
		var units []importUnit
		resources := 0
		for _, file := range files {
			fileUnits, err := readImportFile(file, batchSize, summary)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			for _, unit := range fileUnits {
				resources += len(unit.types)
			}
			units = append(units, fileUnits...)
		}

		bar := newProgressBar(cmd, resources)
		client := &importClient{client: &http.Client{Timeout: timeout}, endpoint: endpoint, token: token, maxRetries: 5}
		for _, unit := range units {
			bar.Describe(unit.file)
			if err := client.post(cmd.Context(), unit, summary); err != nil {
				_ = bar.Exit()
				return &ExitError{Code: ExitFailure, Err: err}
			}
			_ = bar.Add(len(unit.types))
		}
		_ = bar.Finish()

		if err := summary.write(cmd.OutOrStdout(), len(files)); err != nil {
			return err
		}
		if len(summary.failures) > 0 {
			return &ExitError{Code: ExitFailure, Err: errImportFailures}
		}
		return nil
	}
	return cmd
}

// newProgressBar draws on standard error when it is a terminal and stays
// silent otherwise, so that logs and pipes get only the summary.
func newProgressBar(cmd *cobra.Command, resources int) *progressbar.ProgressBar {
	visible := false
	if file, ok := cmd.ErrOrStderr().(*os.File); ok {
		visible = term.IsTerminal(int(file.Fd()))
	}
	return progressbar.NewOptions64(int64(resources),
		progressbar.OptionSetWriter(cmd.ErrOrStderr()),
		progressbar.OptionSetVisibility(visible),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("resources"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}
