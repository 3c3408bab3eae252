package smart

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns matches one of these with
// errors.Is, or wraps a syscall error.
var (
	// ErrNotSupported: the device has no SMART over a protocol we speak
	// (loop, virtio, zram, device-mapper, a SCSI target that refuses ATA
	// PASS-THROUGH, a drive with SMART unsupported).
	ErrNotSupported = errors.New("smart: not supported")
	// ErrChecksum: a page's checksum byte does not make its bytes sum to 0.
	ErrChecksum = errors.New("smart: bad page checksum")
	// ErrMalformed: a page or blob is too short or structurally invalid.
	ErrMalformed = errors.New("smart: malformed data")
	// ErrDisabled: the drive supports SMART but it is turned off.
	ErrDisabled = errors.New("smart: SMART disabled on the device")
	// ErrTimeout: a command ran out of its time (the kernel's or the context's).
	ErrTimeout = errors.New("smart: command timed out")
	// ErrPermission: the caller lacks the privilege for passthrough commands.
	ErrPermission = errors.New("smart: permission denied")
	// ErrNotFound: the device or its sysfs entry does not exist.
	ErrNotFound = errors.New("smart: device not found")
	// ErrInvalidOption: an option failed validation.
	ErrInvalidOption = errors.New("smart: invalid option")
	// ErrDevice: the device answered a command with an error.
	ErrDevice = errors.New("smart: device error")
)

// ChecksumError names the page whose checksum failed.
type ChecksumError struct {
	Page string // "IDENTIFY DEVICE", "SMART READ DATA", ...
	Sum  byte   // the byte sum of the page; 0 when valid
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("smart: %s: bad checksum (bytes sum to 0x%02x, want 0x00)", e.Page, e.Sum)
}

// Is makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// CommandError is a command that failed; Err is the underlying sgio or
// nvmeioctl error (a sense error, an NVMe status, a syscall error).
type CommandError struct {
	Device string
	Op     string // "IDENTIFY DEVICE", "SMART READ DATA", "Get Log Page 02h", ...
	Err    error
	kind   error // one of the sentinels, or nil
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("smart: %s: %s: %v", e.Device, e.Op, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }

// Is matches the sentinel the failure was classified as.
func (e *CommandError) Is(target error) bool { return e.kind != nil && target == e.kind }

func malformed(page string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, page, fmt.Sprintf(format, args...))
}

// checksum verifies the ATA rule that all 512 bytes of a page sum to 0 mod 256.
func checksum(page string, b []byte) error {
	var s byte
	for _, c := range b {
		s += c
	}
	if s != 0 {
		return &ChecksumError{Page: page, Sum: s}
	}
	return nil
}
