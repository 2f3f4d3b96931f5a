package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedEncounters creates encounters whose period starts on the given days
// of January 2024, plus one without a period.
func seedEncounters(t *testing.T, s store.Store, days []int) map[string]int {
	t.Helper()
	byID := map[string]int{}
	for _, day := range days {
		body := fmt.Sprintf(`{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"period":{"start":"2024-01-%02dT08:00:00Z","end":"2024-01-%02dT09:00:00Z"}}`, day, day)
		res, err := s.Create(context.Background(), "acme", []byte(body))
		require.NoError(t, err)
		byID[res.ID] = day
	}
	res, err := s.Create(context.Background(), "acme", []byte(`{"resourceType":"Encounter","status":"planned","subject":{"reference":"Patient/p1"}}`))
	require.NoError(t, err)
	byID[res.ID] = 0
	return byID
}

// collect pages through a search and returns the days of the encounters in
// the order returned (0 for the encounter without a period).
func collect(t *testing.T, s store.Store, params url.Values, days map[string]int) []int {
	t.Helper()
	var out []int
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 50, "paging must end")
		page, err := s.Search(context.Background(), "acme", "Encounter", params)
		require.NoError(t, err)
		for _, r := range page.Resources {
			require.False(t, seen[r.ID], "resource %s returned twice", r.ID)
			seen[r.ID] = true
			out = append(out, days[r.ID])
		}
		if page.Next == "" {
			return out
		}
		params.Set("_cursor", page.Next)
	}
}

// tickingClock returns a clock that moves one second per call, so that
// every write gets a distinct meta.lastUpdated.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

func TestSearchPagingAndSort(t *testing.T) {
	forEachBackendWith(t, func() store.Options { return store.Options{Now: tickingClock()} }, func(t *testing.T, s store.Store) {
		days := seedEncounters(t, s, []int{5, 3, 9, 1, 7, 3})

		tests := []struct {
			name  string
			query string
			want  []int
		}{
			{"by date ascending", "_sort=date&_count=2", []int{1, 3, 3, 5, 7, 9, 0}},
			{"by date descending", "_sort=-date&_count=3", []int{9, 7, 5, 3, 3, 1, 0}},
			{"period is served too", "_sort=period&_count=4", []int{1, 3, 3, 5, 7, 9, 0}},
			{"creation order without sort", "_count=1", []int{5, 3, 9, 1, 7, 3, 0}},
			{"filtered and sorted", "date=ge2024-01-04&_sort=date&_count=1", []int{5, 7, 9}},
			{"day range", "date=2024-01-03", []int{3, 3}},
			{"within a week", "date=ge2024-01-02&date=le2024-01-06&_sort=-date", []int{5, 3, 3}},
			{"ends before", "date=eb2024-01-03", []int{1}},
			{"or of two days", "date=2024-01-01,2024-01-09&_sort=date", []int{1, 9}},
			{"status and patient", "status=planned&patient=p1", []int{0}},
			{"last updated sort", "_sort=-_lastUpdated&_count=2", []int{0, 3, 7, 1, 9, 3, 5}},
			{"last updated range", "_lastUpdated=gt2025-03-01T12:00:03Z&_lastUpdated=lt2025-03-01T12:00:06Z", []int{1, 7}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				params, err := url.ParseQuery(tc.query)
				require.NoError(t, err)
				assert.Equal(t, tc.want, collect(t, s, params, days))
			})
		}
	})
}

func TestSearchRejectsBadParameters(t *testing.T) {
	tests := []struct {
		name, resourceType, query, want string
	}{
		{"unknown parameter", "Patient", "colour=red", "supported: _id, _lastUpdated, birthdate"},
		{"date on patient", "Patient", "date=2020", "unknown parameter"},
		{"bad date", "Patient", "birthdate=20-01", "not a FHIR date"},
		{"bad prefix", "Patient", "birthdate=ap2020", "prefix \"ap\" is not supported"},
		{"text for a date", "Patient", "birthdate=notadate", "\"notadate\" is not a FHIR date"},
		{"bad modifier", "Patient", "family:phonetic=x", "modifier :phonetic"},
		{"bad count", "Patient", "_count=-1", "invalid _count"},
		{"bad sort", "Patient", "_sort=family", "cannot sort by \"family\""},
		{"two sort keys", "Patient", "_sort=birthdate,_lastUpdated", "several keys"},
		{"foreign cursor", "Patient", "_cursor=eyJrIjowLCJzIjoxLCJmIjoieCJ9", "invalid _cursor"},
		{"patient of wrong type", "Observation", "patient=Group/1", "not a Group"},
	}
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				params, err := url.ParseQuery(tc.query)
				require.NoError(t, err)
				_, err = s.Search(context.Background(), "acme", tc.resourceType, params)
				require.Error(t, err)
				assert.True(t, errors.Is(err, sdk.ErrInvalid), "got %v", err)
				assert.Contains(t, err.Error(), tc.want)
			})
		}
	})
}

func TestSearchCursorBoundToQuery(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		seedEncounters(t, s, []int{1, 2, 3})
		page, err := s.Search(context.Background(), "acme", "Encounter", url.Values{"_count": {"1"}, "status": {"finished"}})
		require.NoError(t, err)
		require.NotEmpty(t, page.Next)

		_, err = s.Search(context.Background(), "acme", "Encounter", url.Values{"_cursor": {page.Next}, "status": {"planned"}})
		assert.True(t, errors.Is(err, sdk.ErrInvalid), "a cursor from another search must be rejected: got %v", err)
	})
}
