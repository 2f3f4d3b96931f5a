package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRebind(t *testing.T) {
	pg := &sqldb.DB{Dialect: sqldb.Postgres}
	lite := &sqldb.DB{Dialect: sqldb.SQLite}
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	assert.Equal(t, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)", pg.Rebind(q))
	assert.Equal(t, q, lite.Rebind(q))
	assert.Equal(t, "(?,?),(?,?),(?,?)", sqldb.Placeholders(3, 2))
}

func TestLoadMigrationsChecksNames(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"gap", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, "expected version 2"},
		{"bad name", fstest.MapFS{"m/1_a.sql": {}}, "not named NNNN_name.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqldb.LoadMigrations(tc.files, "m")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	migrations := []sqldb.Migration{
		{Version: 1, Name: "one", SQL: "CREATE TABLE one (id INTEGER PRIMARY KEY)"},
		{Version: 2, Name: "two", SQL: "CREATE TABLE two (id INTEGER PRIMARY KEY)"},
	}
	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			opts := dbtest.Options(t, b)
			ctx := context.Background()
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := sqldb.Open(ctx, opts)
					if !assert.NoError(t, err) {
						return
					}
					defer db.Close()
					assert.NoError(t, db.Migrate(ctx, "test_migrations", migrations))
				}()
			}
			wg.Wait()

			db, err := sqldb.Open(ctx, opts)
			require.NoError(t, err)
			defer db.Close()
			var n int
			require.NoError(t, db.Read.QueryRowContext(ctx, "SELECT COUNT(*) FROM test_migrations").Scan(&n))
			assert.Equal(t, 2, n, "each migration is recorded once")
		})
	}
}

func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "hub.db")
	db, err := sqldb.Open(context.Background(), sqldb.Options{Dialect: sqldb.SQLite, Path: path, Synchronous: sqldb.SyncNormal})
	require.NoError(t, err)
	_, err = db.Write.Exec("CREATE TABLE t (x INTEGER)")
	require.NoError(t, err)
	defer db.Close()

	for _, p := range []string{path, path + "-wal", filepath.Dir(path)} {
		info, err := os.Stat(p)
		require.NoError(t, err)
		assert.Zero(t, info.Mode().Perm()&0o077, "%s has mode %v", p, info.Mode().Perm())
	}
}

// closedPort returns a loopback address that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	down, err := sql.Open("pgx", "postgres://postgres@"+closedPort(t)+"/test?connect_timeout=2")
	require.NoError(t, err)
	defer down.Close()
	connectErr := down.PingContext(ctx)
	require.Error(t, connectErr)
	assert.True(t, sqldb.IsUnavailable(connectErr), "a refused connection: %v", connectErr)
	assert.True(t, sqldb.IsUnavailable(fmt.Errorf("read Patient/1: %w", connectErr)), "wrapped")

	missing, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "no-such-dir", "hub.db")+"?mode=ro")
	require.NoError(t, err)
	defer missing.Close()
	cantOpen := missing.PingContext(ctx)
	require.Error(t, cantOpen)
	assert.True(t, sqldb.IsUnavailable(cantOpen), "a SQLite file that cannot be opened: %v", cantOpen)

	db, err := sqldb.Open(ctx, dbtest.Options(t, dbtest.Backend{Name: "postgres", Dialect: sqldb.Postgres}))
	require.NoError(t, err)
	defer db.Close()
	_, syntax := db.Read.ExecContext(ctx, "SELEC 1")
	require.Error(t, syntax)
	assert.False(t, sqldb.IsUnavailable(syntax), "a syntax error: %v", syntax)

	assert.False(t, sqldb.IsUnavailable(nil))
	assert.False(t, sqldb.IsUnavailable(errors.New("decode row: invalid JSON")))
}
