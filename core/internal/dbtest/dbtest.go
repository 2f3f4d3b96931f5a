// Package dbtest gives tests a private database: a SQLite file in
// t.TempDir() or a fresh schema on the PostgreSQL at 127.0.0.1:5432.
//
// PostgreSQL tests skip with a SKIP line naming the reason when the server
// cannot be reached, unless HUB_REQUIRE_POSTGRES=1 is set, in which case
// they fail. HUB_TEST_POSTGRES_URL overrides the server URL.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/healthhub/healthhub/core/internal/sqldb"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// DefaultPostgresURL is the test server: the local PostgreSQL, database
// "test", trust authentication.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Backend names one database a test suite runs against.
type Backend struct {
	Name    string
	Dialect sqldb.Dialect
}

// Backends lists SQLite and PostgreSQL, for suites that run on both.
var Backends = []Backend{{Name: "sqlite", Dialect: sqldb.SQLite}, {Name: "postgres", Dialect: sqldb.Postgres}}

// PostgresURL returns the server URL the tests use.
func PostgresURL() string {
	if u := os.Getenv("HUB_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RequirePostgres reports whether HUB_REQUIRE_POSTGRES=1 is set, so that an
// unreachable server fails the tests instead of skipping them.
func RequirePostgres() bool {
	return os.Getenv("HUB_REQUIRE_POSTGRES") == "1"
}

// PostgresSchema creates a schema with a random name on the test server and
// returns a URL whose search_path selects it. The schema and everything in
// it are dropped when the test ends. When the server cannot be reached the
// test is skipped, or failed under HUB_REQUIRE_POSTGRES=1.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	admin, err := openAdmin(base)
	if err != nil {
		unreachable(t, err)
	}
	t.Cleanup(func() { admin.Close() })

	schema := "hubtest_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openAdmin(base string) (*sql.DB, error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func unreachable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("PostgreSQL at %s is unreachable (%v)", redact(PostgresURL()), err)
	if RequirePostgres() {
		t.Fatalf("%s and HUB_REQUIRE_POSTGRES=1 is set", msg)
	}
	t.Skipf("SKIP: %s; set HUB_REQUIRE_POSTGRES=1 to fail instead", msg)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the configured URL"
	}
	return u.Redacted()
}

// Options returns sqldb options for a private database of the backend: a
// file in t.TempDir() for SQLite, a fresh schema for PostgreSQL.
func Options(t testing.TB, b Backend) sqldb.Options {
	t.Helper()
	opts := sqldb.Options{Dialect: b.Dialect, Synchronous: sqldb.SyncNormal, BusyTimeout: 10 * time.Second, PoolSize: 4}
	if b.Dialect == sqldb.Postgres {
		opts.URL = PostgresSchema(t)
	} else {
		opts.Path = t.TempDir() + "/hub.db"
	}
	return opts
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
