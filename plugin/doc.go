// Package plugin puts volume managers behind one interface: a Backend (LVM,
// btrfs, ZFS, loop files, or an external process) has pools and volumes,
// creates, resizes and deletes volumes, and takes snapshots. Every mutation
// is returned as sched.Operations carrying the backend's resource keys, so
// the scheduler and safety run a backend's changes like every other change:
// nothing a backend does bypasses the plan, the locks or the journal.
//
// # Capabilities
//
// Capabilities answers technology × mode, as libblockdev's plugins do: for
// each Technology (volumes, thin volumes, snapshots, clones, shrinking) and
// Mode (create, remove, modify, query) whether this machine can do it and,
// when not, why and which tool is missing. A missing tool never stops a
// backend from being constructed or registered: availability is checked
// when asked, never at start-up, and the answer names the tool.
//
// # Registry
//
// A Registry is a value, not a global: the caller creates one, registers
// backends by name (database/sql style, but explicit) and looks them up.
// Registry.Report asks every backend what it can do here.
//
// # Idempotency
//
// Mutating calls describe a desired end state: creating a volume that
// already exists with the same size returns no operations, deleting one that
// does not exist returns no operations. A conflicting repeat (same name,
// other size) is ErrExists. Bad names and sizes are *InvalidError (ErrInvalid)
// before anything runs. CheckName and RoundSize apply Limits the same way
// in every backend.
//
// # Kinds
//
// A backend offering both block and directory volumes (ZFS zvols and
// datasets) is asked for one with CreateRequest.Kind; empty is its default.
//
// # Conformance
//
// plugin/plugintest is the suite every backend runs (go-containerregistry's
// validate is the model): every capability a backend declares is
// exercised, and one declared but broken fails it. plugintest.NewMemory is
// a reference backend for tests.
//
// # In-tree backends
//
// plugin/zfs (datasets and zvols through zpool/zfs, on OpenZFS and on
// zfs-fuse), plugin/loopfile, and external ones through plugin/external.
package plugin
