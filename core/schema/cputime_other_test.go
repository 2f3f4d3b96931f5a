//go:build !linux

package schema

import "time"

// processCPU and threadCPU report 0 where getrusage per thread is not
// available, and the benchmarks then leave out their CPU metrics.
func processCPU() time.Duration { return 0 }

func threadCPU() time.Duration { return 0 }
