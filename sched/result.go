package sched

import (
	"fmt"
	"time"
)

// State is the final state of one operation in a Run.
type State uint8

const (
	// StateSucceeded: Execute succeeded and the change stands, either
	// because the plan succeeded or because it could not be rolled back
	// (Reason says why).
	StateSucceeded State = iota + 1
	// StateFailed: Execute failed on its last attempt; Err is an *OpError.
	StateFailed
	// StateSkipped: not run because a dependency did not succeed.
	StateSkipped
	// StateCancelled: not started because ctx was cancelled or the plan
	// stopped after a failure.
	StateCancelled
	// StateRolledBack: succeeded, then undone by its Rollback.
	StateRolledBack
	// StateRollbackFailed: succeeded, then its Rollback failed;
	// RollbackErr is a *RollbackError.
	StateRollbackFailed
)

var stateNames = [...]string{
	StateSucceeded:      "succeeded",
	StateFailed:         "failed",
	StateSkipped:        "skipped",
	StateCancelled:      "cancelled",
	StateRolledBack:     "rolled back",
	StateRollbackFailed: "rollback failed",
}

func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Result is what happened to one operation.
type Result struct {
	ID    string
	Kind  string
	State State
	// Attempts is how many times Execute ran (0 if it never started).
	Attempts int
	// Err is why the operation failed (*OpError), was skipped (wraps
	// ErrSkipped) or was cancelled (wraps ErrCancelled).
	Err error
	// RollbackErr is why its rollback failed (*RollbackError).
	RollbackErr error
	// Reason explains a skip, a cancellation, or why a successful change
	// was kept when the plan was rolled back.
	Reason string
	// Batch lists the IDs run together with this one, itself included.
	Batch []string
	// Started and Finished bound the execution, retries included.
	Started, Finished time.Time
}

// Report is the outcome of a Run: one Result per operation, in plan order.
type Report struct {
	Results []Result
	// Started and Finished bound the whole run, rollback included.
	Started, Finished time.Time
	index             map[string]int
}

// Result returns the result of the operation id.
func (r *Report) Result(id string) (Result, bool) {
	if r == nil {
		return Result{}, false
	}
	i, ok := r.index[id]
	if !ok {
		return Result{}, false
	}
	return r.Results[i], true
}

// Count returns how many operations ended in state s.
func (r *Report) Count(s State) int {
	if r == nil { // Run returns no Report for an invalid plan
		return 0
	}
	n := 0
	for i := range r.Results {
		if r.Results[i].State == s {
			n++
		}
	}
	return n
}
