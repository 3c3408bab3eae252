package storage

import (
	"errors"
	"fmt"
	"strings"
)

// Code names why a Spec cannot hold; stable for machines.
type Code string

// Refusal codes of the planner. Safety's preflight codes (safety.Code)
// also appear when an operation's preflight refuses.
const (
	CodeInvalidSpec     Code = "invalid_spec"       // the Spec contradicts itself
	CodeNotFound        Code = "not_found"          // a disk or device the Spec names is not there
	CodeTooBig          Code = "too_big"            // more than the device, disk or VG holds
	CodeShrinkXFS       Code = "shrink_xfs"         // xfs cannot shrink
	CodeShrinkBelowMin  Code = "below_min_size"     // smaller than the filesystem's minimum
	CodeShrinkNotSafe   Code = "shrink_unsupported" // the filesystem cannot shrink (or not offline/online as needed)
	CodeNotDisposable   Code = "not_disposable"     // the change destroys data the Spec does not name disposable
	CodeTableMismatch   Code = "table_mismatch"     // the disk holds another kind of table
	CodeDriveFailing    Code = "drive_failing"      // SMART says the drive is failing: no heavy operation
	CodeDeviceSaturated Code = "device_saturated"   // %util at or above the limit: heavy operations wait
	CodeMountConflict   Code = "mount_conflict"     // something else is mounted at the target
	CodeUnreadable      Code = "unreadable"         // the inventory could not read what the decision needs
	CodeBackend         Code = "backend"            // a backend refused
)

// Reason is one reason a Spec cannot hold.
type Reason struct {
	Code    Code   `json:"code"`
	Object  string `json:"object"` // the Spec item or device it is about
	Message string `json:"message"`
}

func (r Reason) String() string { return fmt.Sprintf("%s: %s (%s)", r.Object, r.Message, r.Code) }

// ErrRefused matches every *RefusedError.
var ErrRefused = errors.New("storage: spec refused")

// RefusedError lists every reason a Spec cannot hold, all at once.
type RefusedError struct {
	Reasons []Reason `json:"reasons"`
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "storage: spec refused (%d reasons)", len(e.Reasons))
	for _, r := range e.Reasons {
		b.WriteString("; ")
		b.WriteString(r.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Has reports whether a reason with code c is listed.
func (e *RefusedError) Has(c Code) bool {
	for _, r := range e.Reasons {
		if r.Code == c {
			return true
		}
	}
	return false
}
