package safety

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps one of them, so a
// caller can tell "refused" from "failed" with errors.Is.
var (
	// ErrUnsafe: preflight refused the operation (the Report says why).
	ErrUnsafe = errors.New("safety: operation refused as unsafe")
	// ErrLockedDown: the target is in lock-down after a failed undo.
	ErrLockedDown = errors.New("safety: target is locked down")
	// ErrPendingRecovery: an interrupted mutation on the target must be recovered first.
	ErrPendingRecovery = errors.New("safety: interrupted mutation awaits recovery")
	// ErrIdentityMismatch: the device at the target's path is no longer the device the journal names.
	ErrIdentityMismatch = errors.New("safety: target identity does not match the journal")
	// ErrCorrupt: the journal holds a damaged record that is not a torn tail.
	ErrCorrupt = errors.New("safety: journal corrupt")
	// ErrVersion: the journal holds a record of a format version this build
	// does not read (FormatVersion); the journal is left as it is.
	ErrVersion = errors.New("safety: journal record of another format version")
	// ErrJournalBroken: a write or sync of the journal failed; the journal
	// must be closed and reopened (after a failed fsync nothing can be trusted).
	ErrJournalBroken = errors.New("safety: journal unusable after a failed write or sync")
	// ErrBusy: another process holds the journal or the device lock.
	ErrBusy = errors.New("safety: busy")
	// ErrClosed: the journal was closed.
	ErrClosed = errors.New("safety: journal closed")
	// ErrCannotFinish: returned (wrapped) by a roll-forward function that
	// cannot complete an interrupted mutation; recovery then rolls back.
	ErrCannotFinish = errors.New("safety: operation cannot be finished")
	// ErrImageMismatch: a before-image file no longer matches its checksum.
	ErrImageMismatch = errors.New("safety: before-image checksum mismatch")
	// ErrInvalid: a bad argument or option.
	ErrInvalid = errors.New("safety: invalid argument")
	// ErrNotFound: no such mutation or lock-down.
	ErrNotFound = errors.New("safety: not found")
)

// LockedDownError carries the lock-down that refused a mutation.
type LockedDownError struct {
	Lockdown Lockdown
}

func (e *LockedDownError) Error() string {
	return fmt.Sprintf("safety: %s is locked down since %s (mutation %s): %s",
		e.Lockdown.Target, e.Lockdown.Time.Format("2006-01-02T15:04:05Z07:00"), e.Lockdown.MutationID, e.Lockdown.Reason)
}

// Is makes errors.Is(err, ErrLockedDown) work.
func (e *LockedDownError) Is(target error) bool { return target == ErrLockedDown }

// RefusedError carries the preflight report that refused an operation.
type RefusedError struct {
	Report *Report
}

func (e *RefusedError) Error() string {
	if e.Report == nil {
		return ErrUnsafe.Error()
	}
	return "safety: refused: " + e.Report.Summary()
}

// Is makes errors.Is(err, ErrUnsafe) work.
func (e *RefusedError) Is(target error) bool { return target == ErrUnsafe }
