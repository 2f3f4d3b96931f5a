package store

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/sdk"
)

//go:embed migrations
var migrationFiles embed.FS

// migrationsTable records the store's applied schema versions.
const migrationsTable = "store_migrations"

// Options are the store's run-time dependencies.
type Options struct {
	// Blobs receives Binary.data and large attachment data. Nil keeps all
	// content in the database.
	Blobs sdk.Storage
	// Logger receives start-up and error records. Nil discards them.
	Logger *slog.Logger
	// Now returns the time stamped into meta.lastUpdated. Nil uses
	// time.Now.
	Now func() time.Time
}

// sqlStore is the Store on SQLite or PostgreSQL; the dialect-specific SQL
// lives in sqldb and in the migrations.
type sqlStore struct {
	db     *sqldb.DB
	set    settings
	blobs  sdk.Storage
	log    *slog.Logger
	now    func() time.Time
	schema []sqldb.Migration
}

// Open opens the database that cfg describes, applies pending schema
// migrations and returns the store.
func Open(ctx context.Context, cfg Config, opts Options) (Store, error) {
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
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.Migrate(ctx, migrationsTable, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}

	s := &sqlStore{db: db, set: set, blobs: opts.Blobs, log: opts.Logger, now: opts.Now, schema: migrations}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.log.Info("store opened", "driver", set.db.Dialect, "schema_version", len(migrations), "synchronous", set.db.Synchronous)
	return s, nil
}

func (s *sqlStore) Close() error {
	err := s.db.Close()
	s.log.Info("store closed", "error", err)
	return err
}

// q rebinds a query for the dialect.
func (s *sqlStore) q(query string) string { return s.db.Rebind(query) }

// Ping checks that the database is reachable.
func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.db.Read.PingContext(ctx); err != nil {
		return fmt.Errorf("store database: %w", err)
	}
	return nil
}

// stamp returns the current time truncated to the microseconds the
// databases keep, so that meta.lastUpdated and the stored column agree.
func (s *sqlStore) stamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// newID returns a server-assigned id: a random (version 4) UUID, which is a
// valid FHIR id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

var _ Store = (*sqlStore)(nil)
