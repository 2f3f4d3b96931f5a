package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads the migrations in dir of fsys. Files are named
// NNNN_name.sql, such as 0001_init.sql; versions start at 1 and have no gaps.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations from %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("load migrations from %s: file %q is not named NNNN_name.sql", dir, e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load migrations from %s: %w", dir, err)
		}
		version, _ := strconv.Atoi(m[1])
		out = append(out, Migration{Version: version, Name: m[2], SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("load migrations from %s: expected version %d, found %04d_%s.sql", dir, i+1, m.Version, m.Name)
		}
	}
	return out, nil
}

// Migrate applies the migrations that table does not yet record, each in
// its own transaction, in version order. table is the bookkeeping table,
// one per package so that packages sharing a database migrate
// independently. Concurrent callers are serialized by the SQLite write lock
// or a PostgreSQL advisory lock. A database that records a version newer
// than the last migration is rejected, because an older hub must not write
// to a schema it does not know.
func (db *DB) Migrate(ctx context.Context, table string, migrations []Migration) error {
	create := "CREATE TABLE IF NOT EXISTS " + table + " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
	for {
		done, err := db.migrateNext(ctx, table, create, migrations)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

func (db *DB) migrateNext(ctx context.Context, table, create string, migrations []Migration) (done bool, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey(table)); err != nil {
				return fmt.Errorf("migrate %s: lock: %w", table, err)
			}
		}
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("migrate %s: create bookkeeping table: %w", table, err)
		}

		var current int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM "+table).Scan(&current); err != nil {
			return fmt.Errorf("migrate %s: read version: %w", table, err)
		}
		if current > len(migrations) {
			return fmt.Errorf("migrate %s: database schema version %d is newer than this hub knows (%d): upgrade the hub", table, current, len(migrations))
		}
		if current == len(migrations) {
			done = true
			return nil
		}

		m := migrations[current]
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate %s: apply %04d_%s: %w", table, m.Version, m.Name, err)
		}
		insert := db.Rebind("INSERT INTO " + table + " (version, name, applied_at) VALUES (?, ?, ?)")
		if _, err := tx.ExecContext(ctx, insert, m.Version, m.Name, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate %s: record %04d_%s: %w", table, m.Version, m.Name, err)
		}
		return nil
	})
	return done, err
}

func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("healthhub-migrate:" + name))
	return int64(h.Sum64())
}
