package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Synchronous levels accepted by Options.Synchronous.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
	SyncOff    = "off"
)

// Options select and tune one database connection pool.
type Options struct {
	// Dialect is SQLite or Postgres.
	Dialect Dialect
	// Path is the SQLite database file. Its directory is created with mode
	// 0700 when missing.
	Path string
	// URL is the PostgreSQL connection URL.
	URL string
	// Synchronous is "full", "normal" or "off". On SQLite it sets PRAGMA
	// synchronous; on PostgreSQL "full" sets synchronous_commit=on and the
	// other two set synchronous_commit=off.
	Synchronous string
	// BusyTimeout is how long a SQLite connection waits for another
	// writer's lock before it fails with SQLITE_BUSY.
	BusyTimeout time.Duration
	// PoolSize is the maximum number of open connections for reads (and,
	// on PostgreSQL, writes). SQLite writes always use one connection.
	PoolSize int
	// AppName is sent to PostgreSQL as application_name.
	AppName string
	// Logger receives background checkpoint failures. Nil discards them.
	Logger *slog.Logger
}

// DB is an open database: a pool for reads and a pool for writes. On
// PostgreSQL both fields hold the same pool. On SQLite Write has exactly one
// connection whose transactions begin with BEGIN IMMEDIATE, so writers in
// one process queue in Go rather than in SQLite's busy handler, and writers
// in other processes wait up to BusyTimeout.
type DB struct {
	Dialect Dialect
	Read    *sql.DB
	Write   *sql.DB

	// checkpointer copies the SQLite write-ahead log into the database
	// file in the background; nil on PostgreSQL.
	checkpointer *checkpointer
}

// Open opens the database described by opts and pings it.
func Open(ctx context.Context, opts Options) (*DB, error) {
	switch opts.Dialect {
	case SQLite:
		return openSQLite(ctx, opts)
	case Postgres:
		return openPostgres(ctx, opts)
	default:
		return nil, fmt.Errorf("open database: unknown driver %q: use %q or %q", opts.Dialect, SQLite, Postgres)
	}
}

func openSQLite(ctx context.Context, opts Options) (*DB, error) {
	if opts.Path == "" {
		return nil, errors.New("open sqlite database: empty path: set the data directory or the database path")
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", opts.Path, err)
	}
	// The database holds patient data. Create it readable by its owner
	// only; SQLite gives the -wal and -shm files the database file's mode.
	f, err := os.OpenFile(opts.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", opts.Path, err)
	}
	f.Close()
	sync, err := sqliteSynchronous(opts.Synchronous)
	if err != nil {
		return nil, err
	}

	base := url.Values{}
	base.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	base.Set("_synchronous", sync)
	base.Add("_pragma", "cache_size(-16000)")
	base.Add("_pragma", "temp_store(memory)")
	// Commits checkpoint the write-ahead log only when it passes this many
	// pages (40 MB at the default 4 KiB page). Below that, the background
	// checkpointer copies it, off the writer's path.
	base.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))

	writeQuery := cloneValues(base)
	writeQuery.Set("_journal_mode", "WAL")
	writeQuery.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", "file:"+opts.Path+"?"+writeQuery.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", opts.Path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", opts.Path, err)
	}

	readQuery := cloneValues(base)
	readQuery.Set("_query_only", "1")
	read, err := sql.Open("sqlite", "file:"+opts.Path+"?"+readQuery.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", opts.Path, err)
	}
	read.SetMaxOpenConns(max(opts.PoolSize, 1))
	read.SetMaxIdleConns(max(opts.PoolSize, 1))

	cp, err := startCheckpointer(opts.Path, base, opts.Logger)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", opts.Path, err)
	}
	return &DB{Dialect: SQLite, Read: read, Write: write, checkpointer: cp}, nil
}

func sqliteSynchronous(level string) (string, error) {
	switch strings.ToLower(level) {
	case SyncFull:
		return "FULL", nil
	case SyncNormal:
		return "NORMAL", nil
	case SyncOff:
		return "OFF", nil
	default:
		return "", fmt.Errorf("open database: invalid synchronous level %q: use %q, %q or %q", level, SyncFull, SyncNormal, SyncOff)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func openPostgres(ctx context.Context, opts Options) (*DB, error) {
	if opts.URL == "" {
		return nil, errors.New("open postgres database: empty URL: set the database URL, such as postgres://hub@127.0.0.1:5432/hub")
	}
	cfg, err := pgx.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: parse URL: %w", err)
	}
	switch strings.ToLower(opts.Synchronous) {
	case SyncFull:
		cfg.RuntimeParams["synchronous_commit"] = "on"
	case SyncNormal, SyncOff:
		cfg.RuntimeParams["synchronous_commit"] = "off"
	default:
		return nil, fmt.Errorf("open database: invalid synchronous level %q: use %q, %q or %q", opts.Synchronous, SyncFull, SyncNormal, SyncOff)
	}
	if opts.AppName != "" {
		cfg.RuntimeParams["application_name"] = opts.AppName
	}

	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(max(opts.PoolSize, 1))
	pool.SetMaxIdleConns(max(opts.PoolSize, 1))
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database at %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return &DB{Dialect: Postgres, Read: pool, Write: pool}, nil
}

// Close stops the checkpointer and closes both pools.
func (db *DB) Close() error {
	if db.checkpointer != nil {
		db.checkpointer.stop()
	}
	err := db.Write.Close()
	if db.Read != db.Write {
		err = errors.Join(err, db.Read.Close())
	}
	return err
}

// Rebind turns the ? placeholders of query into PostgreSQL's $1, $2, ...
// on PostgreSQL and returns query unchanged on SQLite. Queries must not
// contain a literal question mark.
func (db *DB) Rebind(query string) string {
	if db.Dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// ForUpdate returns the row-lock suffix for a SELECT inside a write
// transaction: " FOR UPDATE" on PostgreSQL. SQLite needs none, because its
// write transactions already hold the database's single write lock.
func (db *DB) ForUpdate() string {
	if db.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint failure.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsBusy reports whether err is a lock timeout or a serialization failure
// that a later retry of the whole transaction may get past.
func IsBusy(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01" || pgErr.Code == "55P03"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code()&0xff == sqlite3.SQLITE_BUSY || liteErr.Code()&0xff == sqlite3.SQLITE_LOCKED
	}
	return false
}

// IsUnavailable reports whether err means that the database could not be
// reached, so that the same request may succeed later. That covers a failed
// connect and a refused or broken network connection; a connection that
// broke during a query surfaces from the driver as io.ErrUnexpectedEOF. It
// also covers a PostgreSQL server that is shutting down or out of
// connections (SQLSTATE classes 08 and 57P, code 53300) and a SQLite file
// that cannot be opened.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code()&0xff == sqlite3.SQLITE_CANTOPEN
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// InTx runs fn in a write transaction and commits it when fn returns nil.
// It rolls back when fn returns an error or panics.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// Placeholders returns "(?,?,...)" rows times, comma-separated, for a
// multi-row INSERT of rows rows with cols columns each.
func Placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}
