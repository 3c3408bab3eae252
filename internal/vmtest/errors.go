package vmtest

import (
	"errors"
	"fmt"
)

var (
	// ErrNoQEMU means qemu-system-x86_64 is not installed.
	ErrNoQEMU = errors.New("vmtest: qemu-system-x86_64 not found")
	// ErrAssets means the guest kernel, modules or busybox are missing and
	// scripts/vm-assets.sh could not prepare them.
	ErrAssets = errors.New("vmtest: guest assets unavailable")
	// ErrConfig means a Config was rejected before anything ran.
	ErrConfig = errors.New("vmtest: invalid config")
	// ErrLibraryNotFound means ldd could not resolve a host tool's library.
	ErrLibraryNotFound = errors.New("vmtest: shared library not found")
	// ErrNoOutput means the guest stopped without printing the end marker:
	// it crashed, the init failed, or the kernel panicked. The Result's
	// Console holds the serial log.
	ErrNoOutput = errors.New("vmtest: guest ended without completing its output")
	// ErrScript means the guest script exited non-zero; see ScriptError.
	ErrScript = errors.New("vmtest: guest script failed")
)

// ScriptError carries the guest script's exit status.
type ScriptError struct {
	Code int
}

func (e *ScriptError) Error() string { return fmt.Sprintf("vmtest: guest script exited %d", e.Code) }

// Is makes errors.Is(err, ErrScript) true.
func (e *ScriptError) Is(target error) bool { return target == ErrScript }
