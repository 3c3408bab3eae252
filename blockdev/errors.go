package blockdev

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns or attaches to a device
// matches one of them with errors.Is.
var (
	// ErrInvalidOption: an Option was given a value it cannot accept.
	ErrInvalidOption = errors.New("blockdev: invalid option")
	// ErrSyntax: a kernel file or database record could not be parsed.
	ErrSyntax = errors.New("blockdev: syntax error")
	// ErrAttribute: a sysfs attribute exists but could not be read or parsed.
	ErrAttribute = errors.New("blockdev: bad attribute")
	// ErrProbe: reading the device's on-disk signatures failed.
	ErrProbe = errors.New("blockdev: signature probe failed")
	// ErrProbeTimeout: the device did not answer the signature probe within
	// its deadline. It also matches ErrProbe and context.DeadlineExceeded.
	ErrProbeTimeout = errors.New("blockdev: signature probe timed out")
	// ErrNoDevices: the sysfs block directory is missing or unreadable, so
	// there is nothing to discover (not the same as a machine with no disks).
	ErrNoDevices = errors.New("blockdev: no sysfs block directory")
	// ErrPartitions: a disk's sysfs directory could not be opened or
	// listed, so which partitions it has is unknown (not "none"). It is
	// wrapped in the disk's *AttrError (Attr ".").
	ErrPartitions = errors.New("blockdev: partitions unknown")
	// ErrMounts: the mount table (/proc/self/mountinfo) could not be read,
	// or had a line that could not be parsed (then it also matches
	// ErrSyntax), so no device of the graph is known to be unmounted. In
	// Graph.Errs.
	ErrMounts = errors.New("blockdev: mount table unreadable")
	// ErrSwaps: /proc/swaps exists but could not be read, so no device of
	// the graph is known not to be active swap. In Graph.Errs. A missing
	// /proc/swaps is not an error: a kernel without swap support has none.
	ErrSwaps = errors.New("blockdev: swap table unreadable")
)

// AttrError is attached to Device.Errs when one attribute of one device could
// not be read or parsed. The attribute is then absent; discovery carries on.
type AttrError struct {
	Device string // kernel name
	Attr   string // path relative to the device's sysfs directory, or a source such as "mountinfo"
	Err    error  // the cause: an *os.PathError, ErrSyntax...
}

func (e *AttrError) Error() string {
	return fmt.Sprintf("blockdev: %s: %s: %v", e.Device, e.Attr, e.Err)
}

func (e *AttrError) Unwrap() error { return e.Err }

// Is makes every AttrError match ErrAttribute.
func (e *AttrError) Is(target error) bool { return target == ErrAttribute }

// ProbeError is Device.ProbeErr when signature probing of that device failed
// or timed out.
type ProbeError struct {
	Device string // kernel name
	Path   string // the node that was probed
	Err    error
}

func (e *ProbeError) Error() string {
	return fmt.Sprintf("blockdev: probe %s (%s): %v", e.Device, e.Path, e.Err)
}

func (e *ProbeError) Unwrap() error { return e.Err }

// Is makes every ProbeError match ErrProbe.
func (e *ProbeError) Is(target error) bool { return target == ErrProbe }
