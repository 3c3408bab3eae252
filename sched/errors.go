package sched

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// Sentinel errors. Every error this package returns matches one of them with
// errors.Is, or wraps the caller's own error unchanged.
var (
	// ErrInvalidOption: an option passed to New was out of range, or a
	// Scheduler was used that New did not make.
	ErrInvalidOption = errors.New("sched: invalid option")
	// ErrInvalidKey: a resource key is empty or not in canonical form.
	ErrInvalidKey = errors.New("sched: invalid resource key")
	// ErrInvalidPlan: Plan.Validate found a problem; the *ValidationError
	// also matches the more specific sentinels below.
	ErrInvalidPlan = errors.New("sched: invalid plan")
	// ErrInvalidOperation: an operation lacks an ID or Execute, or has a bad
	// resource, timeout or retry policy.
	ErrInvalidOperation = errors.New("sched: invalid operation")
	// ErrDuplicateID: two operations share an ID.
	ErrDuplicateID = errors.New("sched: duplicate operation ID")
	// ErrUnknownDependency: an operation depends on an ID not in the plan.
	ErrUnknownDependency = errors.New("sched: unknown dependency")
	// ErrCycle: the dependencies contain at least one cycle.
	ErrCycle = errors.New("sched: dependency cycle")
	// ErrRetryable marks an error as worth retrying under the default
	// classifier: wrap it (fmt.Errorf("...: %w", sched.ErrRetryable)) or
	// join it to the real cause.
	ErrRetryable = errors.New("sched: retryable")
	// ErrPanicked: an Execute, Rollback or merge function panicked; the
	// *PanicError carries the value and the stack.
	ErrPanicked = errors.New("sched: operation panicked")
	// ErrSkipped: an operation did not run because a dependency did not
	// succeed. It is the Cause of a skipped Result.
	ErrSkipped = errors.New("sched: skipped")
	// ErrCancelled: an operation did not start because the context was
	// cancelled or the failure policy stopped the plan.
	ErrCancelled = errors.New("sched: not started")
	// ErrRollback: a rollback failed; *RollbackError carries it together
	// with the failure that made the rollback necessary.
	ErrRollback = errors.New("sched: rollback failed")
)

// OpError is the failure of one operation's Execute after its last attempt.
type OpError struct {
	ID       string
	Kind     string
	Attempts int
	// Batch lists the IDs merged into the failed execution, nil if alone.
	Batch []string
	Err   error
}

func (e *OpError) Error() string {
	what := fmt.Sprintf("operation %q", e.ID)
	if e.Kind != "" {
		what += " (" + e.Kind + ")"
	}
	if e.Batch != nil {
		what = fmt.Sprintf("batch %q", e.Batch)
	}
	return fmt.Sprintf("sched: %s failed after %d attempt(s): %v", what, e.Attempts, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// RollbackError reports a failed rollback together with the error that made
// the rollback necessary. Both are reachable with errors.Is and errors.As, and
// both appear in the message, so neither hides the other.
type RollbackError struct {
	ID    string
	Err   error // what Rollback returned
	Cause error // why the plan was rolled back (the failures, or ctx.Err())
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("sched: rollback of %q failed: %v (rolling back because: %v)", e.ID, e.Err, e.Cause)
}

func (e *RollbackError) Unwrap() []error {
	errs := []error{ErrRollback, e.Err}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// PanicError is a panic recovered from caller code, turned into an error so
// that the plan can still roll back and release its locks.
type PanicError struct {
	ID    string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("sched: operation %q panicked: %v", e.ID, e.Value)
}

func (e *PanicError) Is(target error) bool { return target == ErrPanicked }

// Unwrap exposes a panicked error value (panic(err)) to errors.Is.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

func recovered(id string, v any) error {
	return &PanicError{ID: id, Value: v, Stack: debug.Stack()}
}

// ValidationError lists every problem Plan.Validate found, so a caller fixes
// a plan in one pass rather than one error at a time.
type ValidationError struct {
	// Invalid holds one line per malformed operation.
	Invalid []string
	// Duplicates holds each ID used more than once.
	Duplicates []string
	// Unknown holds each dependency on an ID not in the plan.
	Unknown []UnknownDependency
	// Cycles holds every elementary cycle, each as the IDs along it (each
	// one depends on the next, the last on the first), starting
	// at the operation that comes first in the plan. At most MaxCycles are
	// listed; CyclesTruncated says there were more.
	Cycles          [][]string
	CyclesTruncated bool
}

// UnknownDependency is one dependency naming an ID that is not in the plan.
type UnknownDependency struct {
	ID         string
	Dependency string
}

// MaxCycles bounds how many cycles Validate lists: a dense graph can have
// exponentially many, and a few hundred already name every culprit.
const MaxCycles = 256

func (e *ValidationError) Error() string {
	var parts []string
	for _, s := range e.Invalid {
		parts = append(parts, s)
	}
	for _, d := range e.Duplicates {
		parts = append(parts, fmt.Sprintf("duplicate ID %q", d))
	}
	for _, u := range e.Unknown {
		parts = append(parts, fmt.Sprintf("%q depends on unknown %q", u.ID, u.Dependency))
	}
	for _, c := range e.Cycles {
		parts = append(parts, "cycle "+formatCycle(c))
	}
	if e.CyclesTruncated {
		parts = append(parts, fmt.Sprintf("(more cycles not listed; first %d shown)", MaxCycles))
	}
	return "sched: invalid plan: " + strings.Join(parts, "; ")
}

func formatCycle(c []string) string {
	var b strings.Builder
	for _, id := range c {
		fmt.Fprintf(&b, "%q -> ", id)
	}
	if len(c) > 0 {
		fmt.Fprintf(&b, "%q", c[0])
	}
	return b.String()
}

// Is lets errors.Is match the general and each specific sentinel present.
func (e *ValidationError) Is(target error) bool {
	switch target {
	case ErrInvalidPlan:
		return true
	case ErrInvalidOperation:
		return len(e.Invalid) > 0
	case ErrDuplicateID:
		return len(e.Duplicates) > 0
	case ErrUnknownDependency:
		return len(e.Unknown) > 0
	case ErrCycle:
		return len(e.Cycles) > 0
	}
	return false
}
