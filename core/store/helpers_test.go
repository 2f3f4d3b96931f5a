package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/core/store"
	"github.com/stretchr/testify/require"
)

// forEachBackend runs fn once on a fresh SQLite store and once on a fresh
// PostgreSQL schema.
func forEachBackend(t *testing.T, opts store.Options, fn func(t *testing.T, s store.Store)) {
	forEachBackendWith(t, func() store.Options { return opts }, fn)
}

// forEachBackendWith is forEachBackend with fresh options per backend, for
// options that carry state such as a clock.
func forEachBackendWith(t *testing.T, newOpts func() store.Options, fn func(t *testing.T, s store.Store)) {
	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			s := openStore(t, b, newOpts())
			fn(t, s)
		})
	}
}

func storeConfig(t testing.TB, b dbtest.Backend) store.Config {
	t.Helper()
	o := dbtest.Options(t, b)
	if b.Dialect == sqldb.Postgres {
		return store.Config{Driver: "postgres", URL: o.URL}
	}
	return store.Config{Path: o.Path}
}

func openStore(t testing.TB, b dbtest.Backend, opts store.Options) store.Store {
	t.Helper()
	return openStoreWith(t, storeConfig(t, b), opts)
}

func openStoreWith(t testing.TB, cfg store.Config, opts store.Options) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// repoFile reads a file under the repository's testdata directory.
func repoFile(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", rel))
	require.NoError(t, err)
	return data
}

// syntheaBundles returns the paths of the Synthea transaction bundles.
func syntheaBundles(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "synthea-r4", "*.json"))
	require.NoError(t, err)
	require.Len(t, paths, 2)
	sort.Strings(paths)
	return paths
}

type rawBundle struct {
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

var conditionalRef = regexp.MustCompile(`"reference": "((Practitioner|Organization|Location)\?identifier=([^|"]+)\|([^"]+))"`)

// loadReferencedResources creates the Practitioner, Organization and
// Location resources that a Synthea bundle references conditionally but
// does not contain, one per identifier, and returns their references by
// conditional reference.
func loadReferencedResources(t testing.TB, s store.Store, tenant string, bundle []byte) map[string]string {
	t.Helper()
	refs := map[string]string{}
	for _, m := range conditionalRef.FindAllSubmatch(bundle, -1) {
		ref, resourceType, system, value := string(m[1]), string(m[2]), string(m[3]), string(m[4])
		if _, done := refs[ref]; done {
			continue
		}
		body, err := json.Marshal(map[string]any{
			"resourceType": resourceType,
			"identifier":   []map[string]string{{"system": system, "value": value}},
		})
		require.NoError(t, err)
		res, err := s.Create(context.Background(), tenant, body)
		require.NoError(t, err)
		refs[ref] = res.Type + "/" + res.ID
	}
	return refs
}

// expectedBody returns what the store must return for a received resource:
// the received bytes with the id replaced and the references rewritten,
// and nothing else changed. strip removes the meta members the store
// inserted (their documented form) from the body read back, so that the two
// can be compared byte for byte.
func expectedBody(raw []byte, oldID, newID string, rewrites map[string]string) []byte {
	out := bytes.Replace(raw, []byte(`"id": "`+oldID+`"`), []byte(`"id": "`+newID+`"`), 1)
	for from, to := range rewrites {
		out = bytes.ReplaceAll(out, []byte(`"reference": "`+from+`"`), []byte(`"reference": "`+to+`"`))
	}
	return out
}

func stripInsertedMeta(t testing.TB, body []byte, res *store.Resource, hadMeta bool) []byte {
	t.Helper()
	lastUpdated := res.LastUpdated.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	inserted := `"versionId":"` + res.VersionID + `","lastUpdated":"` + lastUpdated + `"`
	if hadMeta {
		inserted += ","
	} else {
		inserted = `,"meta":{` + inserted + `}`
	}
	require.Equal(t, 1, bytes.Count(body, []byte(inserted)), "body must contain the inserted meta %s once", inserted)
	return bytes.Replace(body, []byte(inserted), nil, 1)
}

func hasTopLevelMeta(raw []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return false
	}
	_, ok := top["meta"]
	return ok
}

func idOf(t testing.TB, raw []byte) string {
	t.Helper()
	var r struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(raw, &r))
	return r.ID
}

func typeAndID(location string) (string, string) {
	parts := strings.Split(location, "/")
	return parts[0], parts[1]
}
