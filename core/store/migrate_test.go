package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

func TestOpenMigratesOnceAndRejectsNewerSchema(t *testing.T) {
	ctx := context.Background()
	cfg := storeConfig(t, dbtest.Backends[0])

	s, err := store.Open(ctx, cfg, store.Options{})
	require.NoError(t, err)
	res, err := s.Create(ctx, "acme", []byte(`{"resourceType":"Patient"}`))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = store.Open(ctx, cfg, store.Options{})
	require.NoError(t, err, "reopening applies no migration twice")
	_, err = s.Read(ctx, "acme", "Patient", res.ID)
	require.NoError(t, err, "data survives a reopen")
	require.NoError(t, s.Close())

	db, err := sql.Open("sqlite", cfg.Path)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO store_migrations (version, name, applied_at) VALUES (99, 'future', 0)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = store.Open(ctx, cfg, store.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "newer than this hub knows")
}

func TestOpenRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  store.Config
		want string
	}{
		{"unknown driver", store.Config{Driver: "mysql"}, `unknown driver "mysql"`},
		{"bad synchronous", store.Config{Path: t.TempDir() + "/x.db", Synchronous: "sometimes"}, "invalid synchronous level"},
		{"postgres without url", store.Config{Driver: "postgres"}, "empty URL"},
		{"count above max", store.Config{DefaultCount: 10, MaxCount: 5}, "exceeds max_count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), tc.cfg, store.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
