// Package plugintest is the conformance suite every plugin.Backend runs:
// the in-tree backends (lvm, btrfs, zfs, loopfile), external ones through
// plugin/external, and the reference Memory backend, which passes it and
// whose broken variants show that it fails what it should.
//
// Run(t, newBackend, opts) exercises every capability the backend
// declares available: create (thick, and thin where TechThin), the
// idempotent repeat, the conflicting repeat (ErrExists), names at the
// length limit and one past it, bad names and sizes (typed errors before
// anything runs, ErrNoSpace beyond the pool), grow with the data kept,
// shrink where TechShrink (ErrNotSupported where not), snapshots (listed,
// taken at a point in time) and clones from them holding the snapshot's
// data, deletes and their repeats, and concurrent creates and deletes on one
// pool. A capability declared available that fails its check fails the
// suite; so does a declared capability the suite could not exercise
// (Failure "unexercised"), since a declaration nobody tests is a guess.
//
// Check is the same suite returning its failures instead of reporting
// them, so the suite itself can be tested (TestSuiteCatchesBrokenBackends).
//
// Data is written and read back through the volume itself: its Device
// (a block device, opened directly: run as root) or a file in its Path.
package plugintest
