package store

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SQLite runs a correlated subquery once per candidate row. A search
// condition must therefore select its matches once, so that the cost of a
// search follows the matches, not matches times resources.
func TestSearchConditionsRunOnce(t *testing.T) {
	opened, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "hub.db")}, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { opened.Close() })
	s := opened.(*sqlStore)

	searches := []struct {
		resourceType string
		params       url.Values
	}{
		{"Patient", url.Values{"family": {"Keeling"}}},
		{"Patient", url.Values{"name:contains": {"eel"}}},
		{"Patient", url.Values{"identifier": {"http://hospital.example/mrn|12345"}}},
		{"Patient", url.Values{"birthdate": {"ge1990-01-01"}}},
		{"Observation", url.Values{"patient": {"Patient/p1"}, "code": {"http://loinc.org|4548-4"}}},
	}
	for _, search := range searches {
		t.Run(search.resourceType+"?"+search.params.Encode(), func(t *testing.T) {
			spec, err := s.parseSearch("search", search.resourceType, search.params)
			require.NoError(t, err)
			where, args := spec.where("north")
			rows, err := s.db.Read.Query("EXPLAIN QUERY PLAN SELECT r.seq FROM resources r WHERE "+where, args...)
			require.NoError(t, err)
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
				plan = append(plan, detail)
			}
			require.NoError(t, rows.Err())
			require.NotEmpty(t, plan)
			assert.NotContains(t, strings.Join(plan, "\n"), "CORRELATED")
		})
	}
}
