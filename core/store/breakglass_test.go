package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
)

func TestStartBreakGlass(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		got, err := s.StartBreakGlass(ctx, "north", "s1", start, time.Hour)
		require.NoError(t, err)
		assert.Equal(t, start, got, "a new session starts now")

		got, err = s.StartBreakGlass(ctx, "north", "s1", start.Add(59*time.Minute), time.Hour)
		require.NoError(t, err)
		assert.Equal(t, start, got, "a session keeps its start within the window")

		got, err = s.StartBreakGlass(ctx, "south", "s1", start.Add(time.Minute), time.Hour)
		require.NoError(t, err)
		assert.Equal(t, start.Add(time.Minute), got, "tenants have sessions of their own")

		got, err = s.StartBreakGlass(ctx, "north", "s2", start.Add(2*time.Minute), time.Hour)
		require.NoError(t, err)
		assert.Equal(t, start.Add(2*time.Minute), got, "another key is another session")

		later := start.Add(time.Hour)
		got, err = s.StartBreakGlass(ctx, "north", "s1", later, time.Hour)
		require.NoError(t, err)
		assert.Equal(t, later, got, "after the window a new session starts")

		got, err = s.StartBreakGlass(ctx, "north", "s1", later.Add(-time.Second), time.Hour)
		require.NoError(t, err)
		assert.Equal(t, later.Add(-time.Second), got, "a start ahead of the caller's clock is taken as now")

		_, err = s.StartBreakGlass(ctx, "north", "s1", later, 0)
		assert.ErrorContains(t, err, "not positive")
	})
}

// Two stores on one database stand for two hubs, or one hub before and
// after a restart.
func TestStartBreakGlassSharedDatabase(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			cfg := storeConfig(t, b)
			first := openStoreWith(t, cfg, store.Options{})
			got, err := first.StartBreakGlass(ctx, "north", "s1", start, time.Hour)
			require.NoError(t, err)
			require.Equal(t, start, got)
			require.NoError(t, first.Close())

			second := openStoreWith(t, cfg, store.Options{})
			got, err = second.StartBreakGlass(ctx, "north", "s1", start.Add(10*time.Minute), time.Hour)
			require.NoError(t, err)
			assert.Equal(t, start, got, "a reopened store continues the session")

			third := openStoreWith(t, cfg, store.Options{})
			later := start.Add(2 * time.Hour)
			var wg sync.WaitGroup
			errs := make([]error, 16)
			for i := range errs {
				s := second
				if i%2 == 1 {
					s = third
				}
				wg.Go(func() {
					_, errs[i] = s.StartBreakGlass(ctx, "north", "s2", later, time.Hour)
				})
			}
			wg.Wait()
			for i, err := range errs {
				assert.NoError(t, err, "call %d", i)
			}
			got, err = third.StartBreakGlass(ctx, "north", "s2", later.Add(time.Minute), time.Hour)
			require.NoError(t, err)
			assert.Equal(t, later, got, "concurrent starts leave one session")
		})
	}
}
