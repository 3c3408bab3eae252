package blockdev

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/uevent"
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
	empty        bool // list devices of size 0
	detached     bool // list loop devices with no backing file
	briefLoops   bool // read detached loop devices in brief (briefloop.go)
	diskWorkers  int  // 0: as many as CPUs, up to maxDiskWorkers (tests set it)
	scannerFiles int  // files a Scanner keeps open at most (tests set it)
	attrs        AttrGroup
	eventSrc     uevent.Source // Watch only; nil: the kernel's socket
	probeFilter  func(*Graph, *Device) bool
	probeFn      probeFunc                          // nil: probe.Path
	listFn       func(*sysfs.Dir) ([]string, error) // nil: (*sysfs.Dir).Names; tests inject failures
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

// WithProbeFilter probes only the devices keep accepts (it sees the whole
// graph, so it can select a disk and everything stacked on it). Opening a
// partition, even read-only, makes the kernel refuse to delete it or re-read
// its disk's table for that moment; a caller interested in a few devices
// should not touch the others.
func WithProbeFilter(keep func(g *Graph, d *Device) bool) Option {
	return func(c *config) error {
		if keep == nil {
			return fmt.Errorf("%w: nil probe filter", ErrInvalidOption)
		}
		c.probeFilter = keep
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
// on by default and costs nothing where the database does not exist. In a
// fake tree (WithRoot) it also reads the property files lsblk --sysroot
// reads: DIR/dev/NAME (DIR/dev/mapper/NAME for device-mapper) holding
// KEY=VALUE lines, as util-linux's lsblk test dumps keep each device's udev
// properties (Device.Udev).
func WithUdev(on bool) Option {
	return func(c *config) error {
		c.udev = on
		return nil
	}
}

// WithEmpty lists or leaves out devices whose size reads as zero (detached
// loop devices, an unused zram, a drive without a medium, an empty
// partition). They are listed by default, as lsblk -a lists them: a check
// that a device is unused must see every device. WithEmpty(false) lists what
// lsblk -A (--noempty) lists, and spends one read (the size) on an empty
// disk. A device whose size cannot be read is not known to be empty and is
// listed. (lsblk with neither flag leaves out only loop devices that have no
// backing file.)
func WithEmpty(on bool) Option {
	return func(c *config) error {
		c.empty = on
		return nil
	}
}

// WithDetachedLoops lists or leaves out loop devices that have no backing
// file (detached: size zero, no loop/ directory). They are listed by
// default, like every other device. WithDetachedLoops(false) gives the
// device set of lsblk without -a, which leaves out exactly these (and,
// through its default -e 1, RAM disks, which Discover lists: a caller
// filters majors itself). It spends one read (dev, which a listed device
// needs anyway) and, for a loop device, one fstatat to tell, instead of
// twenty-odd reads of a device nobody asked for.
func WithDetachedLoops(on bool) Option {
	return func(c *config) error {
		c.detached = on
		return nil
	}
}

// WithBriefDetachedLoops reads detached loop devices in brief: a device of
// the loop major (LOOP_MAJOR) with no loop/ directory and size zero is
// listed with what makes it one — its name, number, sysfs path, size (zero),
// the type loop, removable false and, with AttrHardware, the transport
// "loop" and hotplug false — and nothing else is read of it: not ro,
// diskseq or any queue attribute (rotational included: its queue holds the
// driver's defaults or what its last bound file left), no optional group.
// What the kernel fixes for such a device is not read either: it has no
// partitions and no holders (the driver does not let a held device go) and
// is never hidden.
//
// The kernel makes loop devices in advance and keeps them (max_loop,
// losetup -f), so a machine may have a hundred detached ones, each costing
// twenty-odd reads in full and, in brief, a readlink and an fstatat (of
// loop/): the numbers come from one read of /proc/diskstats and the zero
// sizes from one of /proc/partitions (which lists only devices whose size
// is not zero) for all of them; where either cannot be read, a device's
// dev or size attribute is read instead. A caller that needs only sizes, types
// and stacking of a whole machine (the storage Engine's inventory) asks for
// it; one that prints lsblk -a's columns for them needs the full read, the
// default. Anything that does not look exactly like a detached loop device
// (another major, a loop/ directory, a size other than zero or unreadable,
// a sysfs path outside /sys/devices/virtual) is read in full.
func WithBriefDetachedLoops(on bool) Option {
	return func(c *config) error {
		c.briefLoops = on
		return nil
	}
}

// AttrGroup selects optional groups of attributes to read. The core is
// always read: number, name and path, type (dm, md, loop, partition), size,
// ro, removable, diskseq, partition number and start, loop backing file, dm
// name and uuid, md level, holders, mounts and swap.
type AttrGroup uint

const (
	// AttrQueue: rotational, sector sizes, min/opt I/O, discard, scheduler,
	// nr_requests, read-ahead, zoned, dax (13 files per disk).
	AttrQueue AttrGroup = 1 << iota
	// AttrHardware: model, vendor, serial, revision, WWN, transport, HCTL,
	// hotplug (the device link, its attributes and the bus path).
	AttrHardware
	// AttrAlignment: alignment_offset and discard_alignment.
	AttrAlignment
	// AttrQueueExtra: add_random and write_same_max_bytes of the request
	// queue (2 files per disk).
	AttrQueueExtra
	// AttrZones: the zone limits of the request queue: chunk_sectors (the
	// zone size), zone_write_granularity, zone_append_max_bytes, nr_zones,
	// max_open_zones, max_active_zones (6 files per disk).
	AttrZones
	// AttrState: the state of the disk's device (device/state) or of a
	// device-mapper device (dm/suspended): 1 file per disk.
	AttrState
	// AttrSubsystems: the subsystems on the device's sysfs path (one
	// readlink per directory from the device up to /sys/devices, one per
	// partition).
	AttrSubsystems
	// AttrNode: the owner, group and mode of the device node (one stat per
	// device, and /etc/passwd and /etc/group of the root once per
	// Discover).
	AttrNode
	// AttrRotational: queue/rotational alone (1 file per disk), for a
	// caller that wants to know whether a disk spins but none of the other
	// queue limits. AttrQueue reads it too.
	AttrRotational

	// AttrDefault is what Discover reads unless told otherwise: the
	// sysfs attributes most callers use.
	AttrDefault = AttrQueue | AttrHardware | AttrAlignment
	// AttrAll is every group: everything lsblk -O shows that is not read
	// from the devices themselves.
	AttrAll = AttrDefault | AttrQueueExtra | AttrZones | AttrState | AttrSubsystems | AttrNode | AttrRotational
)

// WithAttributes reads only the core and the given optional groups; a
// caller that needs neither queue limits nor hardware identity (a
// preflight check, a tree of names and sizes) spends far fewer opens, and
// one that wants what the default leaves out asks for it (AttrAll).
func WithAttributes(g AttrGroup) Option {
	return func(c *config) error {
		if g&^AttrAll != 0 {
			return fmt.Errorf("%w: unknown attribute groups %#x", ErrInvalidOption, uint(g&^AttrAll))
		}
		c.attrs = g
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{probeTimeout: DefaultProbeTimeout, probeWorkers: DefaultProbeWorkers, udev: true, empty: true, detached: true, attrs: AttrDefault,
		scannerFiles: DefaultScannerFiles}
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
