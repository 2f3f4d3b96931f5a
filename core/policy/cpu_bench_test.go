package policy

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuMeter measures the CPU time a benchmark spends, in this process and
// optionally in a child process (the opa sidecar). On a machine shared
// with other work, wall-clock latencies include time spent waiting for a
// core; CPU time per decision does not, so benchmarks report both.
type cpuMeter struct {
	childPID int
	start    time.Duration
}

func startCPUMeter(b *testing.B, childPID int) *cpuMeter {
	b.Helper()
	m := &cpuMeter{childPID: childPID}
	m.start = m.now(b)
	return m
}

func (m *cpuMeter) now(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if m.childPID != 0 {
		total += processCPU(b, m.childPID)
	}
	return total
}

// report adds the CPU time per operation as cpu-ns/op.
func (m *cpuMeter) report(b *testing.B) {
	if b.N == 0 {
		return
	}
	b.ReportMetric(float64((m.now(b)-m.start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of a running process,
// from /proc (Linux), at the kernel's clock-tick resolution.
func processCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("read cpu time of process %d: %v", pid, err)
	}
	// The command name in field 2 may hold spaces; fields count from the
	// closing parenthesis.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("parse cpu time of process %d: %q", pid, stat)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
