// Package loopfile is a volume backend (plugin.Backend) that keeps each
// volume as a sparse file under one directory, attached as a loop device:
// block volumes on a machine with no spare disk, which is also what the CSI
// driver's tests use on the host.
//
// # Layout
//
// The directory is the one pool. Volume NAME is NAME.img with its metadata
// in NAME.json (size, tags, the snapshot it was cloned from, creation time);
// snapshot SNAP of NAME is NAME@SNAP.img and NAME@SNAP.json. Sidecars are
// written atomically (temporary file, fsync, rename, fsync of the
// directory), so a crash leaves the old or the new sidecar, never half of
// one; a volume file without a sidecar is a create that did not finish and
// is not listed (the next create of that name replaces it). Names are
// restricted to ASCII letters, digits and "._-", start with a letter or
// digit and are at most 128 bytes, so a name can never leave the directory
// or collide with the "@" of a snapshot.
//
// # Devices
//
// Create attaches the file to a loop device (internal/loopdev, by ioctl,
// without autoclear, so the volume outlives the process); Volume reports
// the device while one is attached, found by the file's inode; Attach
// re-attaches after a reboot. Resize truncates the file and tells the loop
// device (LOOP_SET_CAPACITY); shrinking is offered (TechShrink) because the
// backend has no filesystem to protect: the caller's Engine shrinks the
// filesystem first. Delete detaches first and is refused (ErrInUse) while
// the device is mounted or held.
//
// # Snapshots
//
// A snapshot is a reflink (FICLONE) of the volume file where the directory's
// filesystem can (btrfs, xfs with reflink): instant, atomic and sharing
// blocks. Elsewhere it is a sparse copy (SEEK_DATA/SEEK_HOLE), which is
// consistent only while nothing writes the volume: Capabilities says which
// one this directory gets. A clone (CreateRequest.FromSnapshot) copies the
// snapshot the same way into a new volume.
//
// # Operations
//
// Every mutation is a sched.Operation claiming
// sched.Root("loopfile", dir).Child("volume", name) (a snapshot claims its
// volume's key shared and its own exclusive), with a Rollback that undoes a
// create, a resize or a snapshot; a delete has none (the data is gone).
// Execute is idempotent: a create that finds its volume made with the same
// size succeeds, so two planners racing on one name both end well.
package loopfile
