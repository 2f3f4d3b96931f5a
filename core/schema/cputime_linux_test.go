//go:build linux

package schema

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used, user and system,
// on all threads. Benchmarks report it beside wall time because other
// processes on a shared machine stretch wall time much more than CPU time.
func processCPU() time.Duration {
	return rusage(syscall.RUSAGE_SELF)
}

// threadCPU returns the CPU time the calling thread has used. The caller
// must hold its thread with runtime.LockOSThread.
func threadCPU() time.Duration {
	return rusage(syscall.RUSAGE_THREAD)
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
