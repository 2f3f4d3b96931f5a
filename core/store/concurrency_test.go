package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentIfMatchUpdates runs read-modify-write loops from several
// goroutines against one resource. If-Match must let exactly one writer
// win each version, so the final version counts every successful update.
func TestConcurrentIfMatchUpdates(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		_, _, err := s.Update(ctx, "acme", "Patient", "contended", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
		require.NoError(t, err)

		const writers, updatesEach = 6, 5
		var wg sync.WaitGroup
		var mu sync.Mutex
		conflicts := 0
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < updatesEach; {
					current, err := s.Read(ctx, "acme", "Patient", "contended")
					if !assert.NoError(t, err) {
						return
					}
					body := fmt.Sprintf(`{"resourceType":"Patient","id":"contended","gender":"w%d-%d"}`, w, i)
					_, _, err = s.Update(ctx, "acme", "Patient", "contended", []byte(body), store.WriteOptions{IfMatch: current.ETag()})
					switch {
					case errors.Is(err, sdk.ErrConflict):
						mu.Lock()
						conflicts++
						mu.Unlock()
					case assert.NoError(t, err):
						i++
					default:
						return
					}
				}
			}()
		}
		wg.Wait()

		final, err := s.Read(ctx, "acme", "Patient", "contended")
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(1+writers*updatesEach), final.VersionID)
		t.Logf("%d If-Match conflicts were retried", conflicts)

		history, err := s.History(ctx, "acme", "Patient", "contended", store.HistoryOptions{Count: 1000})
		require.NoError(t, err)
		assert.Len(t, history.Versions, 1+writers*updatesEach, "no version is lost or written twice")
	})
}

func TestConcurrentCreatesAndSearch(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					body := fmt.Sprintf(`{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p%d"},"code":{"coding":[{"system":"s","code":"c%d"}]}}`, w, i)
					_, err := s.Create(ctx, "acme", []byte(body))
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()

		page, err := s.Search(ctx, "acme", "Observation", url.Values{"_count": {"1000"}})
		require.NoError(t, err)
		assert.Len(t, page.Resources, 80)
		page, err = s.Search(ctx, "acme", "Observation", url.Values{"patient": {"p3"}, "code": {"s|c4"}})
		require.NoError(t, err)
		assert.Len(t, page.Resources, 1)
	})
}
