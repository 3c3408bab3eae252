package fsys

import (
	"context"
	"fmt"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
)

// Driver is one filesystem type's mechanics (the design's
// FilesystemDriver). A Driver does what it is told on a target it is given:
// the Manager decides whether it may (mounted or not, big enough, preflight
// and journal), picks online or offline, and calls it. A method the type
// cannot do returns a *NotSupportedError.
type Driver interface {
	Type() Type
	// Read parses the type's superblock from r (size bytes). Pure Go.
	Read(r io.ReaderAt, size int64) (superblock.Super, error)
	// Make writes a new filesystem on dev, which the caller proved blank.
	Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error
	// Check runs the type's checker on the unmounted dev; mode CheckReadOnly
	// writes nothing. override allows the type's dangerous repairs (xfs
	// -L, btrfs --repair).
	Check(ctx context.Context, dev string, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error)
	// ResizeOnline resizes the filesystem mounted at mountpoint whose
	// device (or, for btrfs, member device) is dev to newBytes.
	ResizeOnline(ctx context.Context, dev, mountpoint string, newBytes int64) error
	// ResizeOffline resizes the unmounted filesystem on dev. step names the
	// crash-relevant points for the journal.
	ResizeOffline(ctx context.Context, dev string, newBytes int64, step func(string), progress func(string)) error
	// MinSize is the smallest size dev's filesystem can be shrunk to;
	// mountpoint is "" when it is not mounted.
	MinSize(ctx context.Context, dev, mountpoint string) (int64, error)
	// SetLabel and SetUUID change the label or UUID; mountpoint is "" when
	// the filesystem is not mounted (the offline tool runs), else the online
	// way is used.
	SetLabel(ctx context.Context, dev, mountpoint, label string) error
	SetUUID(ctx context.Context, dev, mountpoint, uuid string) error
}

// WithDriver registers d for its type, replacing the built-in one.
func WithDriver(d Driver) Option {
	return func(m *Manager) error {
		if d == nil || d.Type() == "" {
			return fmt.Errorf("%w: driver without a type", ErrInvalid)
		}
		if m.drivers == nil {
			m.drivers = map[Type]Driver{}
		}
		m.drivers[d.Type()] = d
		return nil
	}
}

// Driver returns the driver registered for t.
func (m *Manager) Driver(t Type) (Driver, error) {
	d, ok := m.drivers[t]
	if !ok {
		return nil, &NotSupportedError{Type: t, What: "filesystem type"}
	}
	return d, nil
}

// registerBuiltins adds the built-in drivers for every type not registered
// by WithDriver.
func (m *Manager) registerBuiltins() {
	if m.drivers == nil {
		m.drivers = map[Type]Driver{}
	}
	for _, d := range []Driver{
		&extDriver{m: m, t: Ext2}, &extDriver{m: m, t: Ext3}, &extDriver{m: m, t: Ext4},
		&xfsDriver{m: m, unsupported: unsupported{XFS}}, &btrfsDriver{m: m},
		&vfatDriver{m: m, unsupported: unsupported{VFAT}}, &swapDriver{m: m, unsupported: unsupported{Swap}},
	} {
		if _, ok := m.drivers[d.Type()]; !ok {
			m.drivers[d.Type()] = d
		}
	}
}

// unsupported is embedded by drivers for the methods their type lacks.
type unsupported struct{ t Type }

func (u unsupported) no(what string) error {
	return &NotSupportedError{Type: u.t, What: what, Missing: featureRows[u.t].notes[Capability(what)]}
}
func (u unsupported) Check(context.Context, string, CheckMode, bool, func(CheckProgress)) (*CheckResult, error) {
	return nil, u.no(string(CapCheck))
}
func (u unsupported) ResizeOnline(context.Context, string, string, int64) error {
	return u.no(string(CapOnlineGrow))
}
func (u unsupported) ResizeOffline(context.Context, string, int64, func(string), func(string)) error {
	return u.no(string(CapOfflineGrow))
}
func (u unsupported) MinSize(context.Context, string, string) (int64, error) {
	return 0, u.no(string(CapMinSize))
}

// offlineOnly refuses the online half of label and UUID changes.
func offlineOnly(t Type, mountpoint string, what Capability) error {
	if mountpoint != "" {
		return &NotSupportedError{Type: t, What: string(what), Missing: featureRows[t].notes[what]}
	}
	return nil
}
