package perf

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps one of them (or a
// syscall error), so callers branch with errors.Is.
var (
	// ErrMalformed reports input that is not in any kernel diskstats format.
	ErrMalformed = errors.New("perf: malformed statistics")
	// ErrNotSupported reports a source the running kernel does not have
	// (for example SCSI error counters on a non-SCSI device).
	ErrNotSupported = errors.New("perf: not supported")
	// ErrInvalidOption reports an option value rejected by a constructor.
	ErrInvalidOption = errors.New("perf: invalid option")
	// ErrClosed reports use of a reader or monitor after Close/Stop.
	ErrClosed = errors.New("perf: closed")
	// ErrRunning reports a second Start of a Monitor.
	ErrRunning = errors.New("perf: monitor already started")
)

// ParseError locates malformed input. It matches ErrMalformed with errors.Is.
type ParseError struct {
	Line   int    // 1-based line number
	Reason string // what was wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("perf: diskstats line %d: %s", e.Line, e.Reason)
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *ParseError) Is(target error) bool { return target == ErrMalformed }

func optErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}
