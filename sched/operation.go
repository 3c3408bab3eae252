package sched

import (
	"context"
	"time"
)

// Operation is one unit of change: data that the scheduler plans and locks
// with, plus the two functions that do and undo the change. There is no
// registry of kinds; Kind is only a label for events and logs.
type Operation struct {
	// ID names the operation uniquely within its plan.
	ID string
	// Kind labels what the operation does ("mkfs", "partition.add").
	Kind string
	// Priority orders ready operations: higher runs first. Operations of
	// equal priority run in the order they became ready.
	Priority int
	// Resources are what the operation touches. It starts only when it can
	// hold all of them at once.
	Resources []Resource
	// Dependencies are the IDs of operations that must succeed before this
	// one starts.
	Dependencies []string
	// Execute makes the change. It must return promptly once ctx is done.
	// If it fails it must leave no partial change behind: the scheduler rolls
	// back only operations that succeeded.
	Execute func(ctx context.Context, progress Progress) error
	// Rollback, if set, undoes a successful Execute. It runs after a plan
	// fails or is cancelled, with a context that is not cancelled with the
	// plan's but is bounded by the scheduler's rollback timeout.
	Rollback func(ctx context.Context) error
	// Timeout bounds each attempt of Execute; zero means no bound beyond
	// the plan's context.
	Timeout time.Duration
	// Retry overrides the scheduler's retry policy for this operation.
	Retry *RetryPolicy
	// BatchKey groups operations that a merge function (WithMerge) may run
	// as one execution when they are ready together. Empty means never
	// batched. Without WithMerge the key is ignored.
	BatchKey string
}

// Progress reports how far a long operation has got. done and total are in
// whatever unit suits the operation (bytes, blocks, steps); total may be 0
// when unknown. It is safe to call from any goroutine and never blocks on the
// scheduler.
type Progress func(done, total int64, note string)

// MergeFunc turns operations with the same batch key that are ready together
// into one operation, for example several partition edits on one disk into
// one table write. Only Execute, Rollback, Timeout and Retry of the result
// are used: the scheduler computes the resources (the union of the members')
// and records every member with the batch's outcome. If the result has no
// Rollback, the members' own Rollbacks run, in reverse order. ops is in the
// order the members would have run on their own.
type MergeFunc func(batchKey string, ops []Operation) (Operation, error)
