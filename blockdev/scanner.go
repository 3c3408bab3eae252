package blockdev

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// ErrClosed is returned by a Scanner used after Close.
var ErrClosed = errors.New("blockdev: scanner closed")

// DefaultScannerFiles bounds the attribute files a Scanner keeps open
// (about twenty per disk and eight per partition).
const DefaultScannerFiles = 4096

// Scanner discovers the same system again and again, for callers that poll
// (an exporter, an inventory loop). It keeps the sysfs attribute files it
// read open and reads them again from offset 0 on the next Discover: the
// kernel produces the current value on each read, and that costs a fifth of
// opening the file anew, which is nearly all of Discover's time.
//
// Nothing is assumed to stay the same between two calls: /sys/block and each
// disk's directory are listed every time, so new devices, partitions and
// attribute groups are seen, and a file kept open for a device that has gone
// fails with ENODEV, even when a device of the same name has appeared since;
// it is then closed and opened anew. Files of devices that are no longer
// listed are closed at the end of each Discover.
//
// Only the live sysfs is kept open: a fake tree (WithRoot) is made of
// regular files, which would go on showing replaced content, so there a
// Scanner reads like Discover. A Scanner is safe for concurrent use; its
// Discover calls run one at a time. Close releases the files.
type Scanner struct {
	mu     sync.Mutex
	cfg    *config
	cache  *attrCache // nil: read like Discover
	closed bool
}

// NewScanner validates opts once (they are those of Discover) and returns a
// Scanner holding no files yet.
func NewScanner(opts ...Option) (*Scanner, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Scanner{cfg: cfg}
	if cfg.root.IsLive() && cfg.scannerFiles > 0 {
		s.cache = &attrCache{budget: int64(cfg.scannerFiles), disks: map[string]*diskCache{}}
	}
	return s, nil
}

// Discover is Discover with the Scanner's options, reusing the files kept
// open by earlier calls.
func (s *Scanner) Discover(ctx context.Context) (*Graph, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return discover(ctx, s.cfg, s.cache)
}

// Close closes every file the Scanner keeps open. Discover fails with
// ErrClosed afterwards.
func (s *Scanner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.cache != nil {
		s.cache.sweep(nil)
	}
	return nil
}

// attrCache holds the open attribute files of each /sys/block entry. The
// map of disks is filled before workers start and read-only while they run;
// each diskCache is used by the one worker reading that disk.
type attrCache struct {
	disks  map[string]*diskCache
	budget int64
	open   atomic.Int64 // files held, across disks
}

type diskCache struct {
	c     *attrCache
	attrs map[string]*sysfs.Attr // by path relative to the disk's directory
	used  map[string]bool        // read in this pass
}

// begin prepares a pass over the given /sys/block names.
func (c *attrCache) begin(names []string) {
	for _, n := range names {
		dc := c.disks[n]
		if dc == nil {
			dc = &diskCache{c: c, attrs: map[string]*sysfs.Attr{}}
			c.disks[n] = dc
		}
		dc.used = map[string]bool{}
	}
}

// sweep closes the files not read in the pass that listed names (all of
// them when names is nil).
func (c *attrCache) sweep(names []string) {
	listed := make(map[string]bool, len(names))
	for _, n := range names {
		listed[n] = true
	}
	for n, dc := range c.disks {
		for rel, a := range dc.attrs {
			if !listed[n] || !dc.used[rel] {
				a.Close()
				delete(dc.attrs, rel)
				c.open.Add(-1)
			}
		}
		if !listed[n] {
			delete(c.disks, n)
		}
	}
}

// read reads rel (relative to dir, the disk's open directory) through a
// kept file when there is one, opening and keeping it otherwise. A kept
// file that fails (the device is gone: ENODEV) is closed and the attribute
// opened anew, so the error reported is always that of a fresh open.
func (dc *diskCache) read(dir *sysfs.Dir, rel string) (string, error) {
	return dc.readAs(dir, rel, false)
}

// readRaw is read keeping the value's white space (sysfs.Attr.ReadRaw).
func (dc *diskCache) readRaw(dir *sysfs.Dir, rel string) (string, error) {
	return dc.readAs(dir, rel, true)
}

func (dc *diskCache) readAs(dir *sysfs.Dir, rel string, raw bool) (string, error) {
	get := (*sysfs.Attr).Read
	if raw {
		get = (*sysfs.Attr).ReadRaw
	}
	if a, ok := dc.attrs[rel]; ok {
		if v, err := get(a); err == nil {
			dc.used[rel] = true
			return v, nil
		}
		a.Close()
		delete(dc.attrs, rel)
		dc.c.open.Add(-1)
	}
	// Take a place in the budget before opening: workers reading other
	// disks do the same at once, and a check followed by an add let each
	// of them pass the last free place.
	if dc.c.open.Add(1) > dc.c.budget {
		dc.c.open.Add(-1)
		if raw {
			return dir.ReadAttrRaw(rel)
		}
		return dir.ReadAttr(rel)
	}
	a, err := dir.OpenAttr(rel)
	if err != nil {
		dc.c.open.Add(-1)
		return "", err
	}
	v, err := get(a)
	if err != nil {
		a.Close()
		dc.c.open.Add(-1)
		return "", err
	}
	dc.attrs[rel] = a
	dc.used[rel] = true
	return v, nil
}
