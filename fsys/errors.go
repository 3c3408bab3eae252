package fsys

import (
	"errors"
	"fmt"
)

var (
	// ErrNotSupported: the type, the kernel or the installed tools cannot do this.
	ErrNotSupported = errors.New("fsys: not supported")
	// ErrInvalid: an option or argument is wrong; nothing was touched.
	ErrInvalid = errors.New("fsys: invalid argument")
	// ErrMounted: the operation needs an unmounted filesystem.
	ErrMounted = errors.New("fsys: filesystem is mounted")
	// ErrNotMounted: the operation needs a mounted filesystem.
	ErrNotMounted = errors.New("fsys: filesystem is not mounted")
	// ErrBusy: the target is in use (EBUSY).
	ErrBusy = errors.New("fsys: busy")
	// ErrPermission: the kernel refused for want of a privilege.
	ErrPermission = errors.New("fsys: permission denied")
	// ErrRefused: a request refused before anything was written (a shrink
	// below the minimum, an xfs shrink, a protected unmount).
	ErrRefused = errors.New("fsys: refused")
	// ErrUnknownFilesystem: no filesystem fsys knows is on the device.
	ErrUnknownFilesystem = errors.New("fsys: no known filesystem")
)

// PermissionError is the kernel's EPERM/EACCES with the capability the
// call needs (ext4 online resize needs CAP_SYS_RESOURCE).
type PermissionError struct {
	Op         string // "EXT4_IOC_RESIZE_FS", "mount", ...
	Path       string
	Capability string // CAP_SYS_RESOURCE, CAP_SYS_ADMIN
	Have       bool   // whether the process has it in its effective set
	Err        error
}

func (e *PermissionError) Error() string {
	s := fmt.Sprintf("fsys: %s %s: %v (needs %s", e.Op, e.Path, e.Err, e.Capability)
	if !e.Have {
		s += ", which this process lacks"
	}
	return s + ")"
}

func (e *PermissionError) Is(target error) bool { return target == ErrPermission }
func (e *PermissionError) Unwrap() error        { return e.Err }

// RefusedError is a request refused before any write, with a machine-readable
// code and a sentence.
type RefusedError struct {
	Code   string // below_min_size, shrink_not_supported, online_shrink_not_supported, mounted, protected, ...
	Reason string
}

func (e *RefusedError) Error() string { return "fsys: refused: " + e.Code + ": " + e.Reason }
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused
}

// NotSupportedError says what is missing: a tool (and its package), a
// kernel feature, or the type's design.
type NotSupportedError struct {
	Type    Type
	What    string // "online shrink", "set uuid online", ...
	Missing string // the program or kernel feature, when that is the reason
}

func (e *NotSupportedError) Error() string {
	s := fmt.Sprintf("fsys: %s: %s not supported", e.Type, e.What)
	if e.Missing != "" {
		s += " (missing " + e.Missing + ")"
	}
	return s
}
func (e *NotSupportedError) Is(target error) bool { return target == ErrNotSupported }
