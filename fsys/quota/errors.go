package quota

import (
	"errors"
	"fmt"
)

var (
	// ErrNotSupported: quotas of this kind cannot be had here (the kernel,
	// the filesystem or the kind does not support them). Every
	// *UnavailableError matches it.
	ErrNotSupported = errors.New("quota: not supported")
	// ErrNotEnabled: the filesystem could have them but they are off; an
	// *UnavailableError with NotEnabled set matches it (and ErrNotSupported).
	ErrNotEnabled = errors.New("quota: not enabled")
	// ErrInvalid: an argument is out of range.
	ErrInvalid = errors.New("quota: invalid argument")
	// ErrBusy: the change needs the filesystem unmounted (ext4's quota
	// feature) or mounted (btrfs).
	ErrBusy = errors.New("quota: filesystem in the wrong state")
)

// UnavailableError says why quotas are not available.
type UnavailableError struct {
	Path   string
	FSType string
	Kind   Kind
	// NotEnabled: supported but switched off (quotactl's ESRCH, btrfs
	// quotas disabled, xfs mounted without the quota option).
	NotEnabled bool
	Reason     string
	Err        error // the kernel's answer, if any
}

func (e *UnavailableError) Error() string {
	what := "not supported"
	if e.NotEnabled {
		what = "not enabled"
	}
	s := fmt.Sprintf("quota: %s quotas %s on %s (%s): %s", e.Kind, what, e.Path, e.FSType, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrNotSupported) hold always and
// errors.Is(err, ErrNotEnabled) when NotEnabled.
func (e *UnavailableError) Is(target error) bool {
	return target == ErrNotSupported || (e.NotEnabled && target == ErrNotEnabled)
}

// Unwrap gives the kernel's errno.
func (e *UnavailableError) Unwrap() error { return e.Err }
