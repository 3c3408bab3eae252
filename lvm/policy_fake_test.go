package lvm

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// fakeClock is a Clock that moves only when Advance is called.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// fakePool is one thin pool in one VG: the usage source, layout source,
// grower and full-mode setter all at once, with lvm's arithmetic (extents,
// a metadata spare that grows with the metadata).
type fakePool struct {
	mu                   sync.Mutex
	dataUsed, dataTotal  int64
	metaUsed, metaTotal  int64
	vgFree, extent       int64
	thinVirtual          int64
	errorWhenFull        bool
	mode                 string
	sampleErr, layoutErr error
	growErr              error
	grows                []fakeGrow
	violations           []string
	modeSets             []bool
}

type fakeGrow struct{ data, meta int64 }

func newFakePool(dataMiB, metaMiB, freeMiB int64) *fakePool {
	return &fakePool{dataTotal: dataMiB << 20, metaTotal: metaMiB << 20, vgFree: freeMiB << 20, extent: 4 << 20, mode: "rw"}
}

func (f *fakePool) PoolUsage(ctx context.Context, vg, pool string) (PoolUsage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sampleErr != nil {
		return PoolUsage{}, f.sampleErr
	}
	mode := f.mode
	if mode == "rw" && f.dataUsed >= f.dataTotal {
		mode = "out_of_data_space"
	}
	return PoolUsage{DataUsed: f.dataUsed, DataTotal: f.dataTotal, MetaUsed: f.metaUsed, MetaTotal: f.metaTotal,
		Mode: mode, ErrorWhenFull: f.errorWhenFull}, nil
}

func (f *fakePool) PoolLayout(ctx context.Context, vg, pool string) (PoolLayout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.layoutErr != nil {
		return PoolLayout{}, f.layoutErr
	}
	return PoolLayout{DataBytes: f.dataTotal, MetaBytes: f.metaTotal, VGFree: f.vgFree, ExtentSize: f.extent,
		ThinVirtual: f.thinVirtual, Thins: 1, ErrorWhenFull: f.errorWhenFull}, nil
}

func (f *fakePool) GrowPool(ctx context.Context, vg, pool string, data, meta int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grows = append(f.grows, fakeGrow{data, meta})
	if f.growErr != nil {
		return f.growErr
	}
	if (data != 0 && data < f.dataTotal) || (meta != 0 && meta < f.metaTotal) {
		f.violations = append(f.violations, fmt.Sprintf("shrink: data %d->%d meta %d->%d", f.dataTotal, data, f.metaTotal, meta))
		return fmt.Errorf("shrink refused")
	}
	var cost int64
	if data > 0 {
		cost += data - f.dataTotal
	}
	if meta > 0 {
		cost += 2 * (meta - f.metaTotal) // the pmspare grows with it
	}
	if cost > f.vgFree {
		f.violations = append(f.violations, fmt.Sprintf("beyond VG free: cost %d free %d", cost, f.vgFree))
		return &Error{Messages: []string{"Insufficient free space"}, Kind: ErrNoSpace}
	}
	if data%f.extent != 0 || meta%f.extent != 0 {
		f.violations = append(f.violations, fmt.Sprintf("not whole extents: %d %d", data, meta))
	}
	f.vgFree -= cost
	if data > 0 {
		f.dataTotal = data
	}
	if meta > 0 {
		f.metaTotal = meta
	}
	return nil
}

func (f *fakePool) SetErrorWhenFull(ctx context.Context, vg, pool string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errorWhenFull = on
	f.modeSets = append(f.modeSets, on)
	return nil
}

// write adds n bytes of data (and n/1024 of metadata) as a thin LV write
// would, failing the part that does not fit.
func (f *fakePool) write(n int64) (failed int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	room := f.dataTotal - f.dataUsed
	if n > room {
		failed = n - room
		n = room
	}
	f.dataUsed += n
	return failed
}

func (f *fakePool) set(fn func(f *fakePool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakePool) get(fn func(f *fakePool)) { f.set(fn) }
