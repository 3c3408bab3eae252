// Package sched plans and runs storage changes concurrently without letting
// two of them touch the same thing at once, and undoes them when a plan
// fails.
//
// # Model
//
// An Operation is data plus two functions: an ID, a Kind label, a Priority,
// the Resources it touches (each Shared or Exclusive), the IDs it depends
// on, Execute, an optional Rollback, a per-attempt Timeout, an optional
// RetryPolicy and an optional BatchKey. There is no registry: any code can
// build operations. A Plan is a set of operations whose dependencies form a
// DAG; Plan.Validate reports malformed operations, duplicate IDs, unknown
// dependencies and every dependency cycle by name, all at once.
// Scheduler.DryRun shows the stages a plan would run in.
//
// # Resources
//
// A Key is a path in a tree: Disk("8:0").Partition(1).Filesystem(),
// VG("vg0").LV("data"), Global("devicemapper"). Two claims conflict when
// their keys overlap (one contains the other, or they are equal) and at
// least one is Exclusive. So an exclusive claim on a disk keeps out every
// claim on its partitions and filesystems, shared claims coexist, and
// partitions of one disk are independent of each other. The rule is
// symmetric: a shared claim on a whole disk also keeps out an exclusive
// claim on one of its partitions, because writing the partition changes
// the disk. An operation never needs to claim a key's parents as well: its
// claim on a partition already keeps out an exclusive claim on the disk.
//
// # Scheduling rules
//
//   - At most WithWorkers executions run at once; a merged batch is one.
//   - Ready operations (all dependencies succeeded) are ordered by Priority,
//     higher first, then by the time they became ready (FIFO).
//   - An operation starts only when it can take all its claims at once;
//     nothing ever holds some locks while waiting for others, so there is
//     no deadlock.
//   - Starvation freedom: when an operation cannot start, its claims are
//     reserved for that dispatch round, and nothing behind it in the order
//     may take a claim that conflicts with them, even if it could. A waiting
//     exclusive claim therefore waits only for the holders it found and for
//     operations of strictly higher priority; shared claims that become
//     ready later queue behind it instead of overtaking it forever. The same
//     holds for a shared claim waiting behind an exclusive one.
//   - The dispatcher examines at most WithLookahead waiting operations per
//     round, which bounds the cost of a decision in very large plans; the
//     ones beyond wait for a later round.
//   - A retry keeps the operation's locks and worker during its backoff: the
//     device is busy, and letting another operation in would only make it
//     busier.
//
// # Retries
//
// Errors that the policy's classifier accepts (by default EBUSY, EAGAIN and
// anything wrapping ErrRetryable) are retried up to MaxAttempts with
// exponential backoff and jitter; RetryOn builds an errors.Is classifier.
// Waits honour ctx. WithClock and WithRand make backoff exact in tests.
//
// # Batching
//
// With WithMerge, operations with the same BatchKey that are ready together
// and can all lock run as one execution built by the merge function (say
// several partition edits on one disk written as one table). Members share
// the outcome; each Result lists the batch.
//
// # Failure, rollback and cancellation
//
// A failed operation's dependents are skipped, with a reason naming the
// dependency. WithFailurePolicy decides whether independent branches go on
// (ContinueIndependent) or nothing new starts (StopOnFailure, the default).
// Then, unless WithRollback(false), the operations that succeeded are rolled
// back one at a time in reverse order of completion, which is reverse
// dependency order. Rollback uses a context that ignores the plan's
// cancellation but is bounded by WithRollbackTimeout. When a rollback fails,
// the operations it depends on are kept rather than undone underneath it.
// A failed operation is not rolled back: Execute must leave no partial
// change when it returns an error. Every rollback failure is a
// *RollbackError that carries both its own error and the failure that
// caused the rollback.
//
// Cancelling the Run's context starts nothing new (queued operations end
// StateCancelled, and so does one that was handed to a worker but had not
// called Execute yet), running operations see their context done, and
// rollback still runs.
//
// # Events
//
// Every state change is an Event (started, retried, progress, succeeded,
// failed, skipped, cancelled, rolling back, rolled back, rollback failed)
// with timings, delivered one at a time to the WithSubscriber function and
// to the WithLogger logger (debug for started and progress, info for
// success, warn for retries, skips and cancels, error for failures). An
// operation's Started event always comes after the Succeeded events of
// everything it depends on. Execute receives a Progress function for long
// work; reports made after Execute returned are dropped.
//
// # Cost
//
// Claims are resolved to lock-table nodes once per Run, a conflict check
// walks the levels of each key, and the ready queue is walked in place, so
// scheduling a no-op costs a few microseconds of CPU in a 10,000-operation
// plan (see BenchmarkOverhead10000).
//
// # Lifecycle hazards
//
// Runs on one Scheduler are serialized so that two plans cannot touch one
// resource at once; use one Scheduler per process. Run takes a snapshot of
// the Plan, but not of the slices inside its operations: do not change
// those while a Run uses them. Execute and Rollback run on worker goroutines
// and must honour ctx: Run returns only after every Execute has returned. A
// panic in Execute, Rollback or a merge function is recovered as a
// *PanicError so that locks are released and the plan can roll back. A
// panic in the subscriber or the log handler is recovered and logged at
// error level; the plan and its rollback go on.
// Timeout bounds each attempt, not the whole operation with its retries.
package sched
