// Package btrfs manages the volumes of a mounted btrfs filesystem by
// ioctl, never by parsing the btrfs tool's output: subvolumes and
// snapshots, the default subvolume, read-only flags, member devices and
// their usage, resize per device, scrub, balance and qgroups.
//
// An FS is a descriptor on a directory of the filesystem (Open). Listings
// read the kernel's trees with BTRFS_IOC_TREE_SEARCH_V2 through
// internal/fsioctl's BtrfsSearch: subvolumes are the root tree's ROOT_ITEM
// and ROOT_BACKREF items with paths resolved by BTRFS_IOC_INO_LOOKUP (a
// snapshot is a subvolume whose ROOT_ITEM has a parent uuid), the default
// subvolume is the root tree's "default" dir item, qgroups are the quota
// tree's QGROUP_STATUS, QGROUP_INFO and QGROUP_LIMIT items, per-device usage
// joins the device tree's dev extents with the chunk tree. The item parsers
// (ParseRootItem, ParseRootRef, ParseDirItems, ParseQgroup*, ParseDevExtent,
// ParseChunk, DecodeItems) are exported, pure, and fuzzed; a short or
// inconsistent item is an error wrapping ErrMalformed.
//
// Listing speed. Each search fills a 256 KiB buffer the FS keeps between
// searches (one per concurrent search, while it is open): 1,000
// subvolumes' items are four ioctls with no page faults. The root
// tree's objectid range is split per CPU at the highest id the last
// listing saw and searched in parallel; a subvolume whose backref names
// its parent's root directory (dirid 256) has the name as its path, with
// no INO_LOOKUP, and subvolumes in one plain directory share one lookup
// (kept per tree and directory). Nothing is opened or stat'ed per
// subvolume. The kernel's copying of the items is about two thirds of a
// listing (BenchmarkRawRootSearch is that floor, with its own ratio
// against the tool: the ceiling of any tree-search listing).
//
// Scrub runs one blocking BTRFS_IOC_SCRUB per device, all at once, and
// polls BTRFS_IOC_SCRUB_PROGRESS; Balance runs BTRFS_IOC_BALANCE_V2 and
// polls BTRFS_IOC_BALANCE_PROGRESS. When their context ends the kernel's
// job is cancelled (SCRUB_CANCEL, BALANCE_CTL) before they return; a
// cancelled scrub's status says where each device got to (Resume), and a
// paused balance resumes with ResumeBalance. ScrubOp, BalanceOp, ResizeOp,
// DeviceAddOp, DeviceRemoveOp, SubvolumeCreateOp, SnapshotOp and
// SubvolumeDeleteOp are the same as sched.Operations: the jobs that move
// chunks or change the device set claim FilesystemKey(fsid) exclusively
// (fsys's ResizeOp of a btrfs member claims it too), so a resize and a
// balance of one filesystem never overlap; subvolume changes claim their
// paths under SubvolumesKey(fsid).
//
// Destroying changes are refused with a *RefusedError (errors.Is
// ErrRefused) carrying a code: deleting a subvolume that is mounted
// somewhere (subvolid= in mountinfo, same fsid), the default one, or one
// with subvolumes below it, unless WithOverride names the code; deleting
// the top level, removing the last device, or removing a device a profile
// in use needs (raid_min_devices), never.
//
// What the tests prove, on real btrfs filesystems on loop devices as root:
// the subvolume listing equals `btrfs subvolume list -puqR` line for line
// (ids, generations, parents, uuids, paths of nested subvolumes in plain
// directories, several in one directory, directories of the same inode
// numbers in two subvolumes, snapshots of snapshots, a deleted one left
// out) and the
// read-only flags `btrfs property get`; qgroups equal `btrfs qgroup show
// -re --raw` (0 mismatches) and writing past a 1 MiB limit fails with
// EDQUOT; every scrub counter of both devices of a RAID1 equals `btrfs
// scrub start -B -R -d` and `scrub status -R -d` on the same filesystem,
// clean and with one copy of a data block damaged in the image (counted,
// then repaired from the other copy; on single data, uncorrectable); a
// scrub cancelled by its context leaves no kernel scrub and resumes from
// last_physical; a paused balance's counts equal `btrfs balance status`,
// it resumes to the end, and one cancelled by its context is gone; a
// convert to raid1 and back, device add, remove and resize, and
// per-device usage equal to `btrfs device usage -b`. The Example decodes
// recorded tree-search items (testdata, re-recorded with
// EOS_BTRFS_RECORD=1) without root.
//
// Hazards. The blocking ioctls (scrub, balance, device remove, a resize
// that shrinks, quota rescan wait) cannot be interrupted: scrub and
// balance are cancelled through the kernel, the others check the context
// before they start and then run to the end. A read-only scrub counts what
// it could repair as corrected_errors (the kernel's wording, the tool's
// too) without writing. Tree searches need CAP_SYS_ADMIN; SubvolumeID does
// not. The trees show the running transaction: Sync before reading usage
// that must include the last writes. The recorded fixtures' headers are
// little-endian, as the kernel's search buffer is on the host that
// recorded them.
//
// Journal. With WithJournal, subvolume create, snapshot, delete and device
// add and remove are safety.Guard mutations: intent, a "requested" step
// before the ioctl, "done" after it; a device to add is preflighted as a
// format. RollForward's options let safety's Recover finish one a crash
// interrupted (redo unless done, then check), and TestCrashAtEachStep kills
// a real process after each step: the result is exactly the new state and
// the journal says rolled_forward. Creates and snapshots roll back (delete)
// when their plan fails later; deletes and removes have no rollback. Scrub,
// balance and ResizeOp are not journaled (the kernel keeps a balance's
// item and resumes it at mount; fsys's own ResizeOp journals a member's
// resize).
package btrfs
