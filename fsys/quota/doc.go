// Package quota manages disk quotas with one typed API over three
// kernels' interfaces:
//
//   - ext4 and xfs user, group and project quotas through quotactl:
//     quotactl_fd(2) on a descriptor of the mountpoint, falling back to
//     quotactl(2) on the block device (found in mountinfo) where the
//     kernel has no quotactl_fd (before 5.14). Both filesystems are driven
//     through the kernel's generic VFS commands (Q_GETQUOTA, Q_SETQUOTA,
//     Q_GETNEXTQUOTA to list every id, Q_GETINFO/Q_SETINFO for grace
//     times, struct if_dqblk/if_nextdqblk/if_dqinfo); xfs implements them,
//     so the xfs-only Q_X* commands are not needed.
//   - btrfs qgroups through fsys/btrfs: a subvolume (Kind Subvolume, id the
//     subvolume id, SubvolumeID for a path) is qgroup 0/<id>; its
//     referenced bytes and limit are Usage.Bytes and Limits.BlockHard.
//     btrfs has no soft limits, inode limits, grace, users, groups or
//     project ids: asking for them is ErrNotSupported with that reason.
//   - project ids of directories by FS_IOC_FSGETXATTR/FS_IOC_FSSETXATTR
//     (fsx_projid, FS_XFLAG_PROJINHERIT): SetProject, GetProject.
//
// Enable sets ext4's quota and project features on an unmounted device
// (tune2fs -O quota,project -Q usrquota,grpquota,prjquota), turns btrfs
// qgroups on online, and for xfs reports the mount options
// (uquota,gquota,pquota; MountOptions), the only way xfs turns quotas on.
//
// Where quotas cannot be had the answer is an *UnavailableError matching
// ErrNotSupported, with the reason; when the filesystem could have them but
// they are off (quotactl's ESRCH, xfs mounted without the option, btrfs
// quotas disabled) it also matches ErrNotEnabled. Never an empty report.
//
// What the tests prove. On the host (whose kernel has no CONFIG_QFMT_V2
// and no CONFIG_XFS_QUOTA): the struct layouts and command words against
// the uapi headers (internal/fsioctl), encoding and decoding of limits,
// the typed answers of a real plain ext4 (ESRCH: not enabled) and xfs (no
// kernel xfs quota: not supported), Enable by tune2fs on a real device
// (features checked with dumpe2fs), project ids set, inherited and read
// back on a real xfs (and checked with lsattr -p), refused on btrfs, and
// btrfs qgroups for real: Enable, a 1 MiB limit, EDQUOT past it, List and
// Get equal to `btrfs qgroup show -re --raw` (0 mismatches). In the VM
// tier (vmtest.TestGuestQuota, a Debian kernel with quota_v2 and xfs
// quota): ext4 with user, group and project quotas and xfs with
// uquota,gquota,pquota, limits for 1,000 ids of each kind set and read
// back, List compared with `repquota -u -g -P -n` and
// `xfs_quota -x -c 'report -ugp -b -i -n'` (0 mismatches), grace times
// set and read, a non-root writer past its user hard limit gets EDQUOT,
// one past a project directory's limit gets EDQUOT on ext4 and ENOSPC on
// xfs (xfs reports project limits as a full directory tree), ext4
// project ids, and BenchmarkGuestReport's ratio against the peer tools.
//
// Hazards. Root is not limited by ext4 quotas: the VFS quota code lets
// CAP_SYS_RESOURCE past every limit, project limits included (the guest
// test prints what root's write got); xfs enforces project limits on root.
// Block limits are kept in 1 KiB units by ext4 and xfs: a limit that is
// not a multiple is rounded up. List reports the ids the kernel keeps
// records for; ids with neither usage nor limits are not kept.
//
// Mutations as operations. SetLimitsOp, SetGraceOp, SetProjectOp and
// EnableOp are sched.Operations claiming the quota's key (Key: by device
// number, or fsid on btrfs). Each reads the state it replaces just before
// the change and its Rollback puts exactly that back (EnableOp of an ext4
// device has none: tune2fs cannot clear the project feature). With
// WithJournal each is a safety.Guard mutation: intent (the new state),
// step "before" (the old state as JSON), "requested", "done", outcome; a
// fault after the change puts the journaled old state back
// (compensated). RollForward gives the journal's handlers: Recover
// finishes an interrupted mutation after checking the path still holds the
// same filesystem (rolled_forward: the new state; an ext4 enable is
// finished after e2fsck -fy), puts the journaled old state back when it
// cannot (rolled_back), and takes an interrupted undo back to the state it
// started from. Limits, grace and project ids are single idempotent kernel
// calls, so redoing one is safe. Tested for real: TestCrashMatrixHost
// (btrfs qgroup limits, btrfs quota enable, xfs project ids, ext4 enable by
// tune2fs) and, in the guest, TestGuestCrashMatrix (ext4 and xfs user,
// group and project limits and grace, ext4 project ids): a fault and a
// SIGKILL of a child at each step, a kill at the undo, and a plan rolled
// back, each ending exactly old or exactly new as the journal says;
// TestRecoverRollsBack kills one whose change the kernel then refuses:
// recovery puts the journaled old state back (rolled_back). A
// fault after an ext4 enable was made cannot be undone: the journal says
// locked_down (the state is new), not old.
package quota
