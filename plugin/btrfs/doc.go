// Package btrfs is the btrfs volume backend (plugin.Backend): volumes are
// subvolumes in one directory of a mounted btrfs filesystem, a volume's size
// is its qgroup's limit on referenced bytes, snapshots are read-only
// snapshots kept beside them, and a clone is a writable snapshot of one.
// Everything is done by ioctl through fsys/btrfs.
//
// # Layout
//
// Pool P is a directory D of the filesystem (New's dir; created on the
// first volume). Volume NAME is the subvolume D/NAME; snapshot SNAP of it is
// the read-only subvolume D/.snapshots/NAME@SNAP. What a volume was cloned
// from and its tags are extended attributes of its root directory
// (user.eos-storage.*), so they live and die with it. A directory in D that
// is not a subvolume is not a volume and is left alone.
//
// # Sizes
//
// A size is the limit of the subvolume's level-0 qgroup (0/<id>) on
// referenced bytes, so the filesystem's quotas must be on: without them
// Capabilities says volume creation is unavailable and why, and nothing
// enables them behind the operator's back (quotas cost every write). Sizes
// are rounded up to a MiB; a shrink below what the volume already holds is
// refused (ErrInUse) since btrfs would accept the limit and fail every
// later write. Subvolumes share the filesystem's space: a volume is thin by
// nature, and the pool's over-provisioning says by how much.
//
// # Operations
//
// Each mutation is a sched.Operation claiming the volume's key under
// fsys/btrfs.SubvolumesKey(fsid) (subvolume work runs beside a balance or a
// scrub, as fsys/btrfs decides), with a Rollback for creates, resizes and
// snapshots. Deleting a volume deletes its subvolume, refused when fsys/btrfs
// refuses it (mounted elsewhere, the default subvolume, nested subvolumes).
package btrfs
