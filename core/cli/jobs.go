package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/jobs"
	"github.com/healthhub/healthhub/core/store"
)

func newJobsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List and retry the hub's background jobs",
		Long: `List and retry the background jobs of the hub whose configuration --config
and the HUB_* variables give: transcriptions of long audio, EHR imports and
pushes. The commands read the job queue in the hub's database directly, so
they work while the hub runs and while it is down.`,
	}
	cmd.AddCommand(newJobsListCommand(), newJobsRetryCommand())
	return cmd
}

// openJobQueue opens the job queue of the configured store without
// working any job. A SQLite database that does not exist is an error, not
// a new empty database.
func openJobQueue(ctx context.Context, configPath string, stderr io.Writer) (*jobs.Queue, error) {
	cfg, err := loadConfig(configPath, stderr)
	if err != nil {
		return nil, err
	}
	db := jobDatabase(cfg)
	if db.Driver != "postgres" {
		if _, err := os.Stat(db.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("open job queue: no database at %s: set data_dir or store.path as the hub has them", db.Path)}
		}
	}
	queue, err := jobs.Open(ctx, cfg.Jobs, db, nil)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return queue, nil
}

// jobDatabase is the store's database, where the hub keeps its jobs.
func jobDatabase(cfg *config.Config) jobs.Database {
	dataDir := cfg.Store.DataDir
	if dataDir == "" {
		dataDir = cfg.DataPath()
	}
	return jobs.Database{Driver: cfg.Store.Driver, Path: store.DatabasePath(dataDir, cfg.Store.Path), URL: cfg.Store.URL}
}

func newJobsListCommand() *cobra.Command {
	var tenant, state, kind string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first, with their state and latest error",
		Args:  cobra.NoArgs,
	}
	configPath := addConfigFlag(cmd)
	cmd.Flags().StringVar(&tenant, "tenant", "", "list only this tenant's jobs (default: every tenant)")
	cmd.Flags().StringVar(&state, "state", "", "list only jobs in these comma-separated states, such as discarded,cancelled")
	cmd.Flags().StringVar(&kind, "kind", "", "list only jobs of this kind, such as transcription")
	cmd.Flags().IntVar(&limit, "limit", 100, "list at most this many jobs")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		queue, err := openJobQueue(cmd.Context(), *configPath, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer queue.Close(cmd.Context())
		filter := jobs.Filter{Tenant: tenant, Kind: kind, Limit: limit}
		if state != "" {
			filter.States = strings.Split(state, ",")
		}
		page, err := queue.List(cmd.Context(), filter)
		if err != nil {
			return &ExitError{Code: ExitFailure, Err: err}
		}
		return printJobs(cmd, page.Jobs)
	}
	return cmd
}

func printJobs(cmd *cobra.Command, list []*jobs.Job) error {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tTENANT\tSTATE\tATTEMPT\tCREATED\tLAST ERROR")
	for _, job := range list {
		lastError := ""
		if outcome := job.LastError(); outcome != nil {
			lastError = outcome.Error()
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", job.ID, job.Task.Kind, job.Task.Tenant, job.State,
			job.Attempt, job.MaxAttempts, job.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), lastError)
	}
	return w.Flush()
}

func newJobsRetryCommand() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "retry ID...",
		Short: "Run failed jobs again from their first attempt",
		Long: `Queue each job again, such as a discarded job after its vendor is back.
A running hub picks it up within jobs.poll_interval. A running job cannot be
retried.`,
		Args: cobra.MinimumNArgs(1),
	}
	configPath := addConfigFlag(cmd)
	cmd.Flags().StringVar(&tenant, "tenant", "", "retry only a job of this tenant (default: any tenant)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		queue, err := openJobQueue(cmd.Context(), *configPath, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer queue.Close(cmd.Context())
		var retried []*jobs.Job
		for _, arg := range args {
			id, err := jobs.ParseID(arg)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("jobs retry: %w", err)}
			}
			job, err := queue.Retry(cmd.Context(), tenant, id)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			retried = append(retried, job)
		}
		return printJobs(cmd, retried)
	}
	return cmd
}
