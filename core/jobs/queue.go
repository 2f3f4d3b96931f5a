package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	// The SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// Database names the database that holds the queue: the store's.
type Database struct {
	// Driver is "sqlite" or "postgres". Default "sqlite".
	Driver string
	// Path is the SQLite database file; required for SQLite.
	Path string
	// URL is the PostgreSQL connection URL; required for PostgreSQL.
	URL string
}

// ErrClosed is returned by Enqueue after Close.
var ErrClosed = errors.New("job queue is closed")

// riverClient is the part of river's client the queue uses. The SQLite
// and PostgreSQL clients differ in their transaction type only, which these
// methods do not take.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobUpdate(ctx context.Context, id int64, params *river.JobUpdateParams) (*rivertype.JobRow, error)
}

// Queue is a durable job queue. Register every Handler before Start. A
// Queue is safe for concurrent use.
type Queue struct {
	set     settings
	logger  *slog.Logger
	workers *river.Workers
	kinds   map[string]bool
	client  riverClient
	closeDB func()
	// newClient builds the river client at Start, once every handler is
	// registered, because river reads its workers when the client is made.
	newClient func(*river.Config) (riverClient, error)
	// stopAfter is the wait for running jobs at Close: stopTimeout.
	stopAfter time.Duration

	mu      sync.Mutex
	started bool
	closed  bool
}

// Open connects to the database, runs river's migrations and returns a
// queue that inserts and reads jobs. Call Handle for each kind and then
// Start to work them. A queue that is never started still inserts, reads
// and retries jobs, as the command line does.
func Open(ctx context.Context, cfg Config, db Database, logger *slog.Logger) (*Queue, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{set: cfg.settings(), logger: logger, workers: river.NewWorkers(), kinds: map[string]bool{}, stopAfter: stopTimeout}
	if q.set.pollInterval < minPollInterval {
		return nil, fmt.Errorf("open job queue: jobs.poll_interval is %s: use %s or more", q.set.pollInterval, minPollInterval)
	}
	var err error
	switch db.Driver {
	case "", "sqlite":
		err = q.openSQLite(ctx, db.Path)
	case "postgres":
		err = q.openPostgres(ctx, db.URL)
	default:
		err = fmt.Errorf("open job queue: unknown driver %q: use \"sqlite\" or \"postgres\"", db.Driver)
	}
	if err != nil {
		return nil, err
	}
	// A client without workers serves inserts and reads until Start.
	client, err := q.newClient(q.riverConfig(false))
	if err != nil {
		q.closeDB()
		return nil, fmt.Errorf("open job queue: %w", err)
	}
	q.client = client
	return q, nil
}

func (q *Queue) openSQLite(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("open job queue: the SQLite database path is empty")
	}
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)", path, defaultSQLiteBusyTimeoutMS)
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open job queue %s: %w", path, err)
	}
	// SQLite runs one writer at a time, and river's maintenance runs in
	// parallel with its workers: one connection serializes them instead of
	// failing with SQLITE_BUSY.
	pool.SetMaxOpenConns(1)
	driver := riversqlite.New(pool)
	migrator, err := rivermigrate.New(driver, nil)
	if err := migrate(ctx, migrator, err); err != nil {
		pool.Close()
		return err
	}
	q.closeDB = func() { pool.Close() }
	q.newClient = func(cfg *river.Config) (riverClient, error) { return river.NewClient(driver, cfg) }
	return nil
}

func (q *Queue) openPostgres(ctx context.Context, url string) error {
	if url == "" {
		return errors.New("open job queue: the PostgreSQL URL is empty")
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("open job queue: %w", err)
	}
	driver := riverpgxv5.New(pool)
	migrator, err := rivermigrate.New(driver, nil)
	if err := migrate(ctx, migrator, err); err != nil {
		pool.Close()
		return err
	}
	q.closeDB = pool.Close
	q.newClient = func(cfg *river.Config) (riverClient, error) { return river.NewClient(driver, cfg) }
	return nil
}

// migrate brings river's tables up to date. river takes a lock, so hub
// replicas starting together migrate once.
func migrate[TTx any](ctx context.Context, migrator *rivermigrate.Migrator[TTx], err error) error {
	if err != nil {
		return fmt.Errorf("open job queue: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("open job queue: run river migrations: %w", err)
	}
	return nil
}

// riverConfig is the client configuration; working adds the queue and
// its workers.
func (q *Queue) riverConfig(working bool) *river.Config {
	cfg := &river.Config{
		Logger:                      q.logger,
		MaxAttempts:                 q.set.maxAttempts,
		JobTimeout:                  q.set.jobTimeout,
		RescueStuckJobsAfter:        q.set.rescueAfter,
		FetchPollInterval:           q.set.pollInterval,
		CompletedJobRetentionPeriod: q.set.completedRetention,
		DiscardedJobRetentionPeriod: q.set.discardedRetention,
		CancelledJobRetentionPeriod: q.set.discardedRetention,
		RetryPolicy:                 backoff{base: q.set.retryBackoff, max: q.set.maxRetryBackoff},
	}
	if working {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.set.workers}}
		cfg.Workers = q.workers
	}
	return cfg
}

// Handle registers the handler of a job kind. It must be called before
// Start.
func (q *Queue) Handle(kind string, handler Handler) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return fmt.Errorf("register job kind %q: the queue has started", kind)
	}
	if kind == "" || q.kinds[kind] {
		return fmt.Errorf("register job kind %q: the kind is empty or already registered", kind)
	}
	river.AddWorkerArgs(q.workers, taskArgs{Task: Task{Kind: kind}}, &worker{q: q, handler: handler})
	q.kinds[kind] = true
	return nil
}

// Start begins working jobs of the registered kinds, here and in every
// replica sharing the database.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.started {
		return errors.New("start job queue: the queue is closed or already started")
	}
	client, err := q.newClient(q.riverConfig(true))
	if err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	q.client, q.started = client, true
	q.logger.Info("job queue started", "workers", q.set.workers, "kinds", len(q.kinds))
	return nil
}

// stopTimeout bounds the wait for running jobs at Close. Jobs still
// running then have their context cancelled.
const stopTimeout = 30 * time.Second

// Close stops working jobs and closes the database. Jobs running at that
// point get up to 30 seconds, or until ctx ends, to finish. Then their
// context is cancelled and each runs again later, here or in another
// replica.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	started := q.started
	q.mu.Unlock()

	var err error
	if started {
		err = q.stop(ctx)
	}
	q.closeDB()
	return err
}

// stop waits for the running jobs, then cancels those that did not end.
func (q *Queue) stop(ctx context.Context) error {
	softCtx, cancel := context.WithTimeout(ctx, q.stopAfter)
	defer cancel()
	err := q.client.Stop(softCtx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		q.logger.Warn("jobs still running at stop; cancelling them", "waited", q.stopAfter.String())
		hardCtx, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancelHard()
		err = q.client.StopAndCancel(hardCtx)
	}
	q.logger.Info("job queue stopped")
	return err
}

// current returns the client, or ErrClosed.
func (q *Queue) current() (riverClient, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, ErrClosed
	}
	return q.client, nil
}

// taskArgs is the river job arguments of every hub job. Its kind is the
// task's, so one type serves every kind.
type taskArgs struct {
	Task
}

// Kind returns the job kind river routes the job by.
func (a taskArgs) Kind() string { return a.Task.Kind }

// encodeMetadata is the metadata every job row carries, so that jobs can be
// listed by tenant without decoding their arguments.
func encodeMetadata(t Task) ([]byte, error) {
	return json.Marshal(map[string]string{"tenant": t.Tenant, "subject": t.Subject})
}
