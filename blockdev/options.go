package blockdev

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// Option configures Discover. Options are validated once, before any I/O.
type Option func(*config) error

// Defaults for signature probing.
const (
	DefaultProbeTimeout = 5 * time.Second
	DefaultProbeWorkers = 4
)

type config struct {
	root         sysfs.Root
	log          *slog.Logger
	probe        *bool // nil: on for the live system, off for a fake tree
	probeTimeout time.Duration
	probeWorkers int
	udev         bool
	probeFn      probeFunc // nil: probe.Path
}

// WithRoot reads dir/sys, dir/proc, dir/dev and dir/run instead of the live
// ones, like lsblk --sysroot. "" and "/" mean the live system.
func WithRoot(dir string) Option {
	return func(c *config) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return fmt.Errorf("%w: root: %w", ErrInvalidOption, err)
		}
		c.root = r
		return nil
	}
}

// WithSysfsRoot uses an already built root seam.
func WithSysfsRoot(r sysfs.Root) Option {
	return func(c *config) error {
		c.root = r
		return nil
	}
}

// WithLogger sets the logger for debug messages about skipped or unreadable
// entries. nil discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

// WithProbe turns on-disk signature probing on or off. The default is on for
// the live system and off for a fake tree (whose /dev nodes are not devices).
func WithProbe(on bool) Option {
	return func(c *config) error {
		c.probe = &on
		return nil
	}
}

// WithProbeTimeout bounds the signature probe of one device. A device that
// has not answered by then gets a ProbeError matching ErrProbeTimeout.
func WithProbeTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: probe timeout %v", ErrInvalidOption, d)
		}
		c.probeTimeout = d
		return nil
	}
}

// WithProbeWorkers bounds how many devices are probed at once.
func WithProbeWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1024 {
			return fmt.Errorf("%w: probe workers %d", ErrInvalidOption, n)
		}
		c.probeWorkers = n
		return nil
	}
}

// WithUdev turns reading the udev database (/run/udev/data) on or off; it is
// on by default and costs nothing where the database does not exist.
func WithUdev(on bool) Option {
	return func(c *config) error {
		c.udev = on
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{probeTimeout: DefaultProbeTimeout, probeWorkers: DefaultProbeWorkers, udev: true}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func (c *config) probing() bool {
	if c.probe != nil {
		return *c.probe
	}
	return c.root.IsLive()
}
