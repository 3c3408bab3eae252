package bpflat

import (
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

// Sentinel errors: perf's own, so callers that handle perf's errors need
// nothing new.
var (
	// ErrNotSupported: the kernel cannot run the collector (no BPF system
	// call, no BTF, no block tracepoints, or tracepoints of another shape).
	ErrNotSupported = perf.ErrNotSupported
	// ErrInvalidOption: an option New rejected.
	ErrInvalidOption = perf.ErrInvalidOption
	// ErrClosed: the collector was closed.
	ErrClosed = perf.ErrClosed
)

// NotSupportedError says why the collector cannot run here. It matches
// ErrNotSupported with errors.Is; Err is the underlying cause.
type NotSupportedError struct {
	Reason string // for a person: what is missing
	Err    error
}

func (e *NotSupportedError) Error() string {
	if e.Err == nil {
		return "bpflat: not supported: " + e.Reason
	}
	return fmt.Sprintf("bpflat: not supported: %s: %v", e.Reason, e.Err)
}

// Is makes errors.Is(err, ErrNotSupported) true.
func (e *NotSupportedError) Is(target error) bool { return target == ErrNotSupported }

// Unwrap returns the cause.
func (e *NotSupportedError) Unwrap() error { return e.Err }

func optErr(format string, args ...any) error {
	return fmt.Errorf("%w: bpflat: "+format, append([]any{ErrInvalidOption}, args...)...)
}
