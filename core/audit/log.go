package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"time"

	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/core/keys"
	"github.com/healthhub/healthhub/sdk"
)

//go:embed migrations
var migrationFiles embed.FS

const migrationsTable = "audit_migrations"

// commitTimeout bounds one group commit, so that a stuck database fails the
// waiting appends instead of holding them forever.
const commitTimeout = 30 * time.Second

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit log is closed")

// Options are the audit log's run-time dependencies.
type Options struct {
	// Signer signs checkpoints. Nil opens the log read-only: Query,
	// Verify and Export work, Append fails.
	Signer ed25519.PrivateKey
	// Logger receives start, stop and commit-failure records. Nil
	// discards them.
	Logger *slog.Logger
	// Now returns the time for events without one. Nil uses time.Now.
	Now func() time.Time
}

// Log is the audit trail of one database. It is safe for concurrent use.
type Log struct {
	db     *sqldb.DB
	stmts  *sqldb.StmtCache // SQLite only; see exec
	set    settings
	signer ed25519.PrivateKey
	keyID  string
	log    *slog.Logger
	now    func() time.Time

	mu      sync.RWMutex // guards closed and sends on pending
	closed  bool
	pending chan *appendRequest
	done    chan struct{}
}

type appendRequest struct {
	record Record
	result chan appendResult
}

type appendResult struct {
	receipt Receipt
	err     error
}

// Open opens the audit trail in the database cfg describes and applies
// pending migrations. With a signer it starts the group-commit writer;
// call Close to stop it.
func Open(ctx context.Context, cfg Config, opts Options) (*Log, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	set.db.Logger = opts.Logger
	migrations, err := sqldb.LoadMigrations(migrationFiles, path.Join("migrations", string(set.db.Dialect)))
	if err != nil {
		return nil, err
	}
	db, err := sqldb.Open(ctx, set.db)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := db.Migrate(ctx, migrationsTable, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}

	l := &Log{db: db, set: set, signer: opts.Signer, log: opts.Logger, now: opts.Now, done: make(chan struct{})}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.signer == nil {
		close(l.done)
		return l, nil
	}
	l.checkTails(ctx)
	l.keyID = keys.ID(l.signer.Public().(ed25519.PublicKey))
	if db.Dialect == sqldb.SQLite {
		l.stmts = sqldb.NewStmtCache(db.Write)
		if err := l.stmts.Prepare(ctx, l.selectHeadQuery(), l.updateHeadQuery(), l.insertEventsQuery(1)); err != nil {
			db.Close()
			return nil, fmt.Errorf("open audit log: prepare statements: %w", err)
		}
	}
	l.pending = make(chan *appendRequest, set.maxBatch)
	go l.run()
	l.log.Info("audit log opened", "driver", set.db.Dialect, "synchronous", set.db.Synchronous, "key_id", l.keyID)
	return l, nil
}

// Append adds an event to its tenant's chain and returns once the event is
// durable. Any error means the event is not known to be stored, and the
// caller must fail the request it audits. When ctx ends first, Append
// returns the context's error, but the event may still be committed.
func (l *Log) Append(ctx context.Context, e Event) (Receipt, error) {
	if l.signer == nil {
		return Receipt{}, sdk.Errorf(sdk.CodeException, "append audit event: the audit log is open read-only: open it with a signer")
	}
	if e.Level == "" {
		e.Level = LevelStandard
	}
	if err := validate(&e); err != nil {
		return Receipt{}, err
	}
	e.ID = newEventID()
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	req := &appendRequest{record: Record{Event: e}, result: make(chan appendResult, 1)}

	if err := l.enqueue(ctx, req); err != nil {
		return Receipt{}, err
	}
	select {
	case res := <-req.result:
		return res.receipt, res.err
	case <-ctx.Done():
		return Receipt{}, fmt.Errorf("append audit event %s: %w: the event may still be written", e.ID, ctx.Err())
	}
}

func (l *Log) enqueue(ctx context.Context, req *appendRequest) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return fmt.Errorf("append audit event: %w", ErrClosed)
	}
	select {
	case l.pending <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("append audit event: %w", ctx.Err())
	}
}

// run is the group-commit writer. It takes the first waiting event, adds
// the events that are already queued (or that arrive within the window),
// commits them together and sends each caller its result.
func (l *Log) run() {
	defer close(l.done)
	for req := range l.pending {
		batch := l.fill([]*appendRequest{req})
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		err := l.commit(ctx, batch)
		cancel()
		if err != nil {
			l.log.Error("audit commit failed; appends refused", "events", len(batch), "error", err)
		}
		for _, r := range batch {
			res := appendResult{err: err}
			if err == nil {
				res.receipt = Receipt{EventID: r.record.ID, Tenant: r.record.Tenant, Seq: r.record.Seq, Hash: r.record.Hash, Time: r.record.Time}
			}
			r.result <- res
		}
	}
}

func (l *Log) fill(batch []*appendRequest) []*appendRequest {
	var timeout <-chan time.Time
	if l.set.window > 0 {
		timer := time.NewTimer(l.set.window)
		defer timer.Stop()
		timeout = timer.C
	}
	for len(batch) < l.set.maxBatch {
		if timeout == nil {
			select {
			case req, ok := <-l.pending:
				if !ok {
					return batch
				}
				batch = append(batch, req)
			default:
				return batch
			}
			continue
		}
		select {
		case req, ok := <-l.pending:
			if !ok {
				return batch
			}
			batch = append(batch, req)
		case <-timeout:
			return batch
		}
	}
	return batch
}

// Ping checks that the audit database is reachable, for readiness probes.
func (l *Log) Ping(ctx context.Context) error {
	if err := l.db.Read.PingContext(ctx); err != nil {
		return fmt.Errorf("audit database: %w", err)
	}
	return nil
}

// Close stops accepting events, commits the queued ones, signs a final
// checkpoint for every tenant with unsigned events and closes the
// database.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	if l.pending != nil {
		close(l.pending)
	}
	l.mu.Unlock()
	<-l.done

	var err error
	if l.signer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		err = l.Checkpoint(ctx)
		cancel()
		l.log.Info("audit log closed", "error", err)
	}
	if l.stmts != nil {
		err = errors.Join(err, l.stmts.Close())
	}
	return errors.Join(err, l.db.Close())
}

// newEventID returns a random (version 4) UUID.
func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
