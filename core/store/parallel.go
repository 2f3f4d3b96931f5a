package store

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelMin is the item count from which forEach spreads work over the
// CPUs. Below it, goroutine start-up costs more than it saves.
const parallelMin = 32

// forEach calls fn for each index in [0, n), spread over GOMAXPROCS
// goroutines when n is large. It returns the error of the lowest index
// that failed, so that the result does not depend on scheduling.
func forEach(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin+1)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}

	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
