package store_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

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
				cpuStart := processCPU(b)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					resp, err := s.ProcessBundle(ctx, "bench", bundles[i%len(bundles)])
					if err != nil {
						b.Fatal(err)
					}
					entries += len(resp.Entries)
				}
				b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "resources/s")
				b.ReportMetric(float64(entries)/(processCPU(b)-cpuStart).Seconds(), "resources/cpu-s")
			})
		}
	}
}

// processCPU returns the user and system CPU time the process has used. On
// a machine shared with other work, resources per CPU second varies less
// than resources per wall-clock second.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
