package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
	"github.com/stretchr/testify/require"
)

// BenchmarkSyntheaImport imports the Synthea bundles as transactions, one
// bundle per iteration, alternating between the two, and reports
// resources per second. Validation is not part of the store, so it is not
// measured.
func BenchmarkSyntheaImport(b *testing.B) {
	for _, backend := range dbtest.Backends {
		for _, sync := range []string{"normal", "full"} {
			b.Run(backend.Name+"/synchronous="+sync, func(b *testing.B) {
				cfg := storeConfig(b, backend)
				cfg.Synchronous = sync
				s := openStoreWith(b, cfg, store.Options{})

				var bundles [][]byte
				entries := 0
				for _, path := range syntheaBundles(b) {
					data, err := os.ReadFile(path)
					require.NoError(b, err)
					loadReferencedResources(b, s, "bench", data)
					bundles = append(bundles, data)
				}

				ctx := context.Background()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					resp, err := s.ProcessBundle(ctx, "bench", bundles[i%len(bundles)])
					if err != nil {
						b.Fatal(err)
					}
					entries += len(resp.Entries)
				}
				b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "resources/s")
			})
		}
	}
}
