package btrfs

import (
	"errors"
	"fmt"
)

var (
	// ErrNotBtrfs: the path is not on a btrfs filesystem.
	ErrNotBtrfs = errors.New("btrfs: not a btrfs filesystem")
	// ErrInvalid: an argument is out of range or malformed.
	ErrInvalid = errors.New("btrfs: invalid argument")
	// ErrMalformed is wrapped by every item parser's error: the kernel's
	// (or a fixture's) item is shorter or otherwise not what its key says.
	ErrMalformed = errors.New("btrfs: malformed tree item")
	// ErrRefused is wrapped by *RefusedError.
	ErrRefused = errors.New("btrfs: refused")
	// ErrNotRunning: no scrub or balance is running (or paused) to
	// report on, pause, cancel or resume.
	ErrNotRunning = errors.New("btrfs: no such job running")
	// ErrQuotaDisabled: quotas are off on this filesystem.
	ErrQuotaDisabled = errors.New("btrfs: quotas are not enabled")
	// ErrPermission: the kernel wants CAP_SYS_ADMIN for this.
	ErrPermission = errors.New("btrfs: needs CAP_SYS_ADMIN")
)

// Refusal codes of *RefusedError; each one can be overridden by name with
// WithOverride.
const (
	RefuseMountedElsewhere = "mounted_elsewhere" // the subvolume is mounted somewhere
	RefuseDefault          = "default_subvolume" // it is the filesystem's default subvolume
	RefuseHasChildren      = "has_children"      // subvolumes are nested below it
	RefuseTopLevel         = "top_level"         // the top-level subvolume (5) cannot be deleted, ever
	RefuseLastDevice       = "last_device"       // removing the only device, never overridable
	RefuseDeviceMounted    = "device_in_use"     // the device to add is mounted or otherwise held
)

// RefusedError is a destroying mutation refused before anything changed.
type RefusedError struct {
	Code   string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("btrfs: refused (%s): %s", e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func malformed(what string, n, want int) error {
	return fmt.Errorf("%w: %s of %d bytes (want at least %d)", ErrMalformed, what, n, want)
}
