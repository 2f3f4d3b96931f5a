package audit_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/stretchr/testify/require"
)

// BenchmarkAppend measures the cost of one durable append with one writer
// and with 32 concurrent writers, whose appends group-commit.
func BenchmarkAppend(b *testing.B) {
	for _, backend := range dbtest.Backends {
		for _, sync := range []string{"full", "normal"} {
			for _, writers := range []int{1, 32} {
				name := backend.Name + "/synchronous=" + sync + "/writers=" + itoa(writers)
				b.Run(name, func(b *testing.B) {
					cfg := newBenchConfig(b, backend)
					cfg.Synchronous = sync
					l, err := audit.Open(context.Background(), cfg, audit.Options{Signer: newBenchKey(b)})
					require.NoError(b, err)
					defer l.Close()
					runAppends(b, l, writers)
				})
			}
		}
	}
}

func runAppends(b *testing.B, l *audit.Log, writers int) {
	ctx := context.Background()
	e := event("acme", "p1", 1)
	b.ResetTimer()
	if writers == 1 {
		for b.Loop() {
			if _, err := l.Append(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(max(writers/runtime.GOMAXPROCS(0), 1))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Append(ctx, e); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
