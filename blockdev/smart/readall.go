package smart

import (
	"context"
	"fmt"
	"sync"
)

// MaxWorkers bounds ReadAll's concurrency: each worker may sit in an ioctl
// for a whole command timeout, and drives on one controller gain nothing
// from more.
const MaxWorkers = 64

// Result is one device's outcome in ReadAll.
type Result struct {
	Device string
	Report *Report // nil when Err is set
	Err    error
}

// ReadAll reads the devices with at most workers reads in flight and
// returns one Result per device, in the order given. A device that fails or
// hangs costs only its own result (and at most its command timeouts); the
// others are read regardless. Options are validated once, before any read.
// When ctx ends, devices not yet started get ctx's error.
func ReadAll(ctx context.Context, devices []string, workers int, opts ...Option) ([]Result, error) {
	if workers < 1 || workers > MaxWorkers {
		return nil, fmt.Errorf("%w: %d workers, want 1..%d", ErrInvalidOption, workers, MaxWorkers)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(devices))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(devices)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := cfg.read(ctx, devices[i])
				results[i] = Result{Device: devices[i], Report: r, Err: err}
			}
		}()
	}
	for i, d := range devices {
		if err := ctx.Err(); err != nil {
			results[i] = Result{Device: d, Err: err}
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results, nil
}
