package blockdev

import (
	"context"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// WithProbeFunc replaces probe.Path, so tests can simulate hung devices.
func WithProbeFunc(fn func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error)) Option {
	return func(c *config) error {
		c.probeFn = fn
		return nil
	}
}

// WithDiskWorkers fixes how many goroutines read disks at once (1: one after
// the other), so tests can compare the parallel read with the serial one.
func WithDiskWorkers(n int) Option {
	return func(c *config) error {
		c.diskWorkers = n
		return nil
	}
}

// DiscoverOpens is Discover that also returns how many files it opened.
func DiscoverOpens(ctx context.Context, opts ...Option) (*Graph, int, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, 0, err
	}
	x := &discovery{cfg: cfg, root: cfg.root, g: newGraph()}
	if err := x.devices(ctx); err != nil {
		return nil, 0, err
	}
	x.stack()
	x.nodeNames()
	x.mounts()
	x.swaps()
	if cfg.udev {
		x.udev()
	}
	x.tables()
	return x.g, x.opens, nil
}

// WithScannerFiles bounds the files a Scanner keeps open (0: none).
func WithScannerFiles(n int) Option {
	return func(c *config) error {
		c.scannerFiles = n
		return nil
	}
}

// ScannerFiles is how many attribute files s keeps open.
func ScannerFiles(s *Scanner) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		return 0
	}
	return int(s.cache.open.Load())
}

// WithListFunc replaces the listing of a disk's sysfs directory, so tests
// can make it fail (root can list any directory of a fake tree).
func WithListFunc(fn func(*sysfs.Dir) ([]string, error)) Option {
	return func(c *config) error {
		c.listFn = fn
		return nil
	}
}

// DevNumbers exposes devNumbers, the /proc/diskstats number reader.
func DevNumbers(path string) map[string]MajMin { return devNumbers(path) }
