package blockdev

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// probeFunc is probe.Path; tests replace it to simulate a device that never answers.
type probeFunc func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error)

// probeAll probes every device with a size in a bounded pool of workers, each
// device under its own deadline.
//
// A read from a hung device cannot be interrupted: a context only stops the
// probe between reads. So each probe runs in its own goroutine and the worker
// waits for it or the deadline, whichever comes first. On the deadline the
// device gets a ProbeError matching ErrProbeTimeout and the worker moves on;
// the abandoned goroutine (and its open file) ends when the kernel finally
// fails or completes the read. It never blocks Discover.
func (x *discovery) probeAll(ctx context.Context) error {
	fn := x.cfg.probeFn
	if fn == nil {
		fn = probe.Path
	}
	var todo []*Device
	for _, m := range x.g.order {
		d := x.g.devs[m]
		if d.Size == nil || *d.Size == 0 || d.MajMin.Major == 0 || !x.isFresh(d) {
			continue
		}
		if x.cfg.probeFilter != nil && !x.cfg.probeFilter(x.g, d) {
			continue
		}
		todo = append(todo, d)
	}
	jobs := make(chan *Device)
	var wg sync.WaitGroup
	workers := min(x.cfg.probeWorkers, len(todo))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				x.probeOne(ctx, fn, d)
			}
		}()
	}
	for _, d := range todo {
		if ctx.Err() != nil {
			break
		}
		jobs <- d
	}
	close(jobs)
	wg.Wait()
	return ctx.Err()
}

type probeAnswer struct {
	res *probe.Result
	err error
}

func (x *discovery) probeOne(ctx context.Context, fn probeFunc, d *Device) {
	node := x.root.Dev(d.KName)
	opts := []probe.Option{probe.WithLogger(x.cfg.log)}
	if d.Type == TypePart && d.Start != nil && d.Size != nil {
		if disk := x.g.Disk(d); disk != d {
			opts = append(opts, probe.WithParent(x.root.Dev(disk.KName), disk.MajMin.String(), *d.Start, *d.Size/512))
		}
	}
	pctx, cancel := context.WithTimeout(ctx, x.cfg.probeTimeout)
	defer cancel()
	ch := make(chan probeAnswer, 1) // buffered: an abandoned probe can still finish and exit
	go func() {
		res, err := fn(pctx, node, opts...)
		ch <- probeAnswer{res, err}
	}()
	timer := time.NewTimer(x.cfg.probeTimeout)
	defer timer.Stop()
	select {
	case a := <-ch:
		if a.err != nil {
			if errors.Is(a.err, context.DeadlineExceeded) {
				a.err = fmt.Errorf("%w: %w", ErrProbeTimeout, a.err)
			}
			d.ProbeErr = &ProbeError{Device: d.KName, Path: node, Err: a.err}
			return
		}
		d.Probe = a.res
	case <-timer.C:
		d.ProbeErr = &ProbeError{Device: d.KName, Path: node,
			Err: fmt.Errorf("%w after %v: %w", ErrProbeTimeout, x.cfg.probeTimeout, context.DeadlineExceeded)}
	case <-ctx.Done():
		d.ProbeErr = &ProbeError{Device: d.KName, Path: node, Err: ctx.Err()}
	}
}
