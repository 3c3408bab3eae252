// Package fsys manages filesystems as typed drivers: ext2/3/4, XFS, btrfs,
// vfat and swap (the design's FilesystemDriver is Driver).
//
// A Manager (New) holds the tool runner (internal/command), the root seam,
// a logger, the safety journal and one Driver per type. Features(type) is
// the capability matrix: online and offline grow and shrink, check,
// repair, minimum size, label and UUID online and offline, freeze, the
// mkfs options, each with the tools it runs and whether they are
// installed. A capability whose tool is missing is reported unavailable,
// naming the program and its Debian package, and asking for it is a
// *NotSupportedError: the package always loads.
//
// # Reading
//
// Inspect reads a device in pure Go: its type as blkid -p decides it (the
// probe), then the type's superblock (fsys/superblock): UUID, label, block
// size, size, free space, inodes, features and state (clean, not clean,
// needs journal recovery or log replay, errors). When the filesystem is
// mounted its free space comes from statfs (the on-disk counters lag
// behind the kernel's) and a btrfs's members from BTRFS_IOC_DEV_INFO.
//
// # Changing
//
// Every change is a sched.Operation wrapped by safety.Guard (MakeOp,
// ResizeOp, RepairOp, LabelOp, UUIDOp; MountOp and UnmountOp are plain
// operations whose rollback is the opposite), so a plan of many runs in
// parallel under the scheduler's locks; the direct calls (Make, Resize,
// Repair, SetLabel, SetUUID) run the same operation alone. Mutations need
// WithJournal: nothing fsys writes escapes the journal. Resource keys are
// the device's (its disk or partition, safety.TargetKey); online changes
// hold the device shared and its Filesystem() and Mount(path) exclusively,
// offline ones the device exclusively.
//
// Make runs preflight for OpFormat before every attempt: the target must
// be positively blank (no signature, no unrecognised data in the metadata
// regions; unreadable is never blank), and the signature regions are
// saved as before-images, so the undo of a make leaves the device reading
// as it did. Overriding a refusal for ext2/3/4 also keeps mke2fs's undo
// file (-z) in the journal's image directory, and the undo replays it with
// e2undo. Swap headers are written in pure Go.
//
// Resize decides first (PlanResize): mounted means online (ioctl), not
// mounted means offline (ext: e2fsck -f then resize2fs; xfs and btrfs:
// the ioctl through a private temporary mount nobody else sees). A
// direction the matrix forbids (an XFS shrink, an ext online shrink, any
// FAT or swap resize), a size below MinSize or the type's smallest, or
// beyond the device, is a *RefusedError before anything is touched. Each
// step is journaled; a failed resize is followed by a read-only check
// (safety.Guarded.OnFailure), and a filesystem that is not consistent
// afterwards locks the device down. RollForward gives the journal the
// recovery of interrupted resizes (repair, then resize again), label and
// UUID changes and repairs.
//
// Check refuses a mounted filesystem (a mounted btrfs is checked by
// scrub) and returns one verdict whatever the tool: clean, fixed, errors
// left, reboot needed, dirty log. Repair runs as a guarded operation.
//
// # Lifecycle hazards
//
// Tools run in their own process group, which is killed when the context
// ends; an ioctl cannot be interrupted, so a context that ends during a
// resize ioctl takes effect when the ioctl returns. Freeze returns a thaw
// that also runs when its context ends: a failing caller never leaves a
// frozen filesystem behind.
package fsys
