package fsioctl

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sizes, flags and keys for subvolumes, devices, scrub, balance and qgroups,
// from include/uapi/linux/btrfs.h and btrfs_tree.h.
const (
	BtrfsSubvolNameMax    = 4039 // BTRFS_SUBVOL_NAME_MAX
	BtrfsInoLookupPathMax = 4080 // BTRFS_INO_LOOKUP_PATH_MAX

	// btrfs_ioctl_vol_args_v2.flags
	BtrfsSubvolRdonly       = 1 << 1 // BTRFS_SUBVOL_RDONLY
	BtrfsSubvolQgroupInhert = 1 << 2 // BTRFS_SUBVOL_QGROUP_INHERIT
	BtrfsDeviceSpecByID     = 1 << 3 // BTRFS_DEVICE_SPEC_BY_ID
	BtrfsSubvolSpecByID     = 1 << 4 // BTRFS_SUBVOL_SPEC_BY_ID

	// btrfs_ioctl_scrub_args.flags
	BtrfsScrubReadonly = 1 // BTRFS_SCRUB_READONLY

	// btrfs_ioctl_balance_args.flags
	BtrfsBalanceData     = 1 << 0 // BTRFS_BALANCE_DATA
	BtrfsBalanceSystem   = 1 << 1 // BTRFS_BALANCE_SYSTEM
	BtrfsBalanceMetadata = 1 << 2 // BTRFS_BALANCE_METADATA
	BtrfsBalanceForce    = 1 << 3 // BTRFS_BALANCE_FORCE
	BtrfsBalanceResume   = 1 << 4 // BTRFS_BALANCE_RESUME

	// btrfs_balance_args.flags
	BtrfsBalanceArgsProfiles = 1 << 0 // BTRFS_BALANCE_ARGS_PROFILES
	BtrfsBalanceArgsUsage    = 1 << 1 // BTRFS_BALANCE_ARGS_USAGE
	BtrfsBalanceArgsDevid    = 1 << 2 // BTRFS_BALANCE_ARGS_DEVID
	BtrfsBalanceArgsConvert  = 1 << 8 // BTRFS_BALANCE_ARGS_CONVERT
	BtrfsBalanceArgsSoft     = 1 << 9 // BTRFS_BALANCE_ARGS_SOFT

	// btrfs_ioctl_balance_args.state
	BtrfsBalanceStateRunning   = 1 << 0
	BtrfsBalanceStatePauseReq  = 1 << 1
	BtrfsBalanceStateCancelReq = 1 << 2

	// BTRFS_IOC_BALANCE_CTL commands
	BtrfsBalanceCtlPause  = 1
	BtrfsBalanceCtlCancel = 2

	// BTRFS_IOC_QUOTA_CTL commands
	BtrfsQuotaCtlEnable  = 1
	BtrfsQuotaCtlDisable = 2

	// btrfs_qgroup_limit.flags
	BtrfsQgroupLimitMaxRfer = 1 << 0
	BtrfsQgroupLimitMaxExcl = 1 << 1

	// Block group type and profile bits (btrfs_tree.h).
	BtrfsBlockGroupData     = 1 << 0
	BtrfsBlockGroupSystem   = 1 << 1
	BtrfsBlockGroupMetadata = 1 << 2
	BtrfsBlockGroupRAID0    = 1 << 3
	BtrfsBlockGroupRAID1    = 1 << 4
	BtrfsBlockGroupDUP      = 1 << 5
	BtrfsBlockGroupRAID10   = 1 << 6
	BtrfsBlockGroupRAID5    = 1 << 7
	BtrfsBlockGroupRAID6    = 1 << 8
	BtrfsBlockGroupRAID1C3  = 1 << 9
	BtrfsBlockGroupRAID1C4  = 1 << 10
	// BtrfsAvailAllocBitSingle is BTRFS_AVAIL_ALLOC_BIT_SINGLE: the
	// "single" profile as a convert target.
	BtrfsAvailAllocBitSingle = 1 << 48

	// Tree ids.
	BtrfsRootTreeObjectID    = 1
	BtrfsChunkTreeObjectID   = 3
	BtrfsFSTreeObjectID      = 5
	BtrfsRootTreeDirObjectID = 6
	BtrfsQuotaTreeObjectID   = 8
	BtrfsFirstFreeObjectID   = 256
	BtrfsLastFreeObjectID    = 1<<64 - 256 // -256ULL
	BtrfsFirstChunkTreeObjID = 256

	// Item keys.
	BtrfsDirItemKey      = 84
	BtrfsRootItemKey     = 132
	BtrfsRootBackrefKey  = 144
	BtrfsRootRefKey      = 156
	BtrfsChunkItemKey    = 228
	BtrfsQgroupStatusKey = 240
	BtrfsQgroupInfoKey   = 242
	BtrfsQgroupLimitKey  = 244

	// Root item flags.
	BtrfsRootSubvolRdonly = 1 << 0
)

// BtrfsVolArgsV2 is struct btrfs_ioctl_vol_args_v2 (4096 bytes). Name is
// a union with devid and subvolid (the first 8 bytes, native endian).
type BtrfsVolArgsV2 struct {
	Fd      int64
	Transid uint64
	Flags   uint64
	Size    uint64
	Inherit uint64 // struct btrfs_qgroup_inherit *
	_       [2]uint64
	Name    [BtrfsSubvolNameMax + 1]byte
}

// SetID stores a devid or subvolid in the name union.
func (a *BtrfsVolArgsV2) SetID(id uint64) {
	*(*uint64)(unsafe.Pointer(&a.Name[0])) = id
}

// BtrfsInoLookupArgs is struct btrfs_ioctl_ino_lookup_args (4096 bytes).
type BtrfsInoLookupArgs struct {
	TreeID   uint64
	ObjectID uint64
	Name     [BtrfsInoLookupPathMax]byte
}

// BtrfsScrubProgress is struct btrfs_scrub_progress (120 bytes).
type BtrfsScrubProgress struct {
	DataExtentsScrubbed uint64
	TreeExtentsScrubbed uint64
	DataBytesScrubbed   uint64
	TreeBytesScrubbed   uint64
	ReadErrors          uint64
	CsumErrors          uint64
	VerifyErrors        uint64
	NoCsum              uint64
	CsumDiscards        uint64
	SuperErrors         uint64
	MallocErrors        uint64
	UncorrectableErrors uint64
	CorrectedErrors     uint64
	LastPhysical        uint64
	UnverifiedErrors    uint64
}

// BtrfsScrubArgs is struct btrfs_ioctl_scrub_args (1024 bytes).
type BtrfsScrubArgs struct {
	Devid    uint64
	Start    uint64
	End      uint64
	Flags    uint64
	Progress BtrfsScrubProgress
	_        [(1024 - 32 - 120) / 8]uint64
}

// BtrfsBalanceArgs is struct btrfs_balance_args (136 bytes, packed; every
// field falls on its natural alignment). Usage is the union of usage and
// usage_min/usage_max, Limit of limit and limit_min/limit_max.
type BtrfsBalanceArgs struct {
	Profiles   uint64
	Usage      uint64
	Devid      uint64
	Pstart     uint64
	Pend       uint64
	Vstart     uint64
	Vend       uint64
	Target     uint64
	Flags      uint64
	Limit      uint64
	StripesMin uint32
	StripesMax uint32
	_          [6]uint64
}

// BtrfsBalanceProgress is struct btrfs_balance_progress.
type BtrfsBalanceProgress struct {
	Expected, Considered, Completed uint64
}

// BtrfsBalanceIoctlArgs is struct btrfs_ioctl_balance_args (1024 bytes).
type BtrfsBalanceIoctlArgs struct {
	Flags uint64
	State uint64
	Data  BtrfsBalanceArgs
	Meta  BtrfsBalanceArgs
	Sys   BtrfsBalanceArgs
	Stat  BtrfsBalanceProgress
	_     [72]uint64
}

// BtrfsQuotaCtlArgs is struct btrfs_ioctl_quota_ctl_args.
type BtrfsQuotaCtlArgs struct {
	Cmd    uint64
	Status uint64
}

// BtrfsQgroupLimit is struct btrfs_qgroup_limit.
type BtrfsQgroupLimit struct {
	Flags   uint64
	MaxRfer uint64
	MaxExcl uint64
	RsvRfer uint64
	RsvExcl uint64
}

// BtrfsQgroupLimitArgs is struct btrfs_ioctl_qgroup_limit_args.
type BtrfsQgroupLimitArgs struct {
	QgroupID uint64
	Lim      BtrfsQgroupLimit
}

// Request numbers (magic 0x94). BTRFS_IOC_QGROUP_LIMIT is declared _IOR
// although the kernel reads the argument; the number is what counts.
var (
	BtrfsIocAddDev          = archIOC.iow(0x94, 10, unsafe.Sizeof(BtrfsVolArgs{}))
	BtrfsIocInoLookup       = archIOC.iowr(0x94, 18, unsafe.Sizeof(BtrfsInoLookupArgs{}))
	BtrfsIocDefaultSubvol   = archIOC.iow(0x94, 19, 8)
	BtrfsIocSync            = archIOC.ioc(archIOC.none, 0x94, 8, 0)
	BtrfsIocSnapCreateV2    = archIOC.iow(0x94, 23, unsafe.Sizeof(BtrfsVolArgsV2{}))
	BtrfsIocSubvolCreateV2  = archIOC.iow(0x94, 24, unsafe.Sizeof(BtrfsVolArgsV2{}))
	BtrfsIocSubvolGetflags  = archIOC.ior(0x94, 25, 8)
	BtrfsIocSubvolSetflags  = archIOC.iow(0x94, 26, 8)
	BtrfsIocScrub           = archIOC.iowr(0x94, 27, unsafe.Sizeof(BtrfsScrubArgs{}))
	BtrfsIocScrubCancel     = archIOC.ioc(archIOC.none, 0x94, 28, 0)
	BtrfsIocScrubProgress   = archIOC.iowr(0x94, 29, unsafe.Sizeof(BtrfsScrubArgs{}))
	BtrfsIocBalanceV2       = archIOC.iowr(0x94, 32, unsafe.Sizeof(BtrfsBalanceIoctlArgs{}))
	BtrfsIocBalanceCtl      = archIOC.iow(0x94, 33, 4)
	BtrfsIocBalanceProgress = archIOC.ior(0x94, 34, unsafe.Sizeof(BtrfsBalanceIoctlArgs{}))
	BtrfsIocQuotaCtl        = archIOC.iowr(0x94, 40, unsafe.Sizeof(BtrfsQuotaCtlArgs{}))
	BtrfsIocQgroupLimit     = archIOC.ior(0x94, 43, unsafe.Sizeof(BtrfsQgroupLimitArgs{}))
	BtrfsIocQuotaRescanWait = archIOC.ioc(archIOC.none, 0x94, 46, 0)
	BtrfsIocRmDevV2         = archIOC.iow(0x94, 58, unsafe.Sizeof(BtrfsVolArgsV2{}))
	BtrfsIocSnapDestroyV2   = archIOC.iow(0x94, 63, unsafe.Sizeof(BtrfsVolArgsV2{}))
)

// ioctlVal issues req with arg passed by value (BALANCE_CTL takes the
// command itself, not a pointer to it).
func ioctlVal(fd int, name string, req, arg uintptr) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
	if errno != 0 {
		return os.NewSyscallError("ioctl "+name, errno)
	}
	return nil
}

func nameArgs(name string, max int) error {
	if name == "" || len(name) > max || bytes.IndexByte([]byte(name), 0) >= 0 || bytes.IndexByte([]byte(name), '/') >= 0 {
		return fmt.Errorf("fsioctl: btrfs name %q: must be 1..%d bytes with no NUL or '/'", name, max)
	}
	return nil
}

// BtrfsSubvolCreate creates subvolume name in the directory dirfd
// (BTRFS_IOC_SUBVOL_CREATE_V2).
func BtrfsSubvolCreate(dirfd int, name string) error {
	if err := nameArgs(name, BtrfsSubvolNameMax); err != nil {
		return err
	}
	var a BtrfsVolArgsV2
	copy(a.Name[:], name)
	err := ioctl(dirfd, "BTRFS_IOC_SUBVOL_CREATE_V2", BtrfsIocSubvolCreateV2, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsSnapCreate snapshots the subvolume open as srcfd to name in the
// directory dirfd (BTRFS_IOC_SNAP_CREATE_V2), read-only when readonly.
func BtrfsSnapCreate(dirfd, srcfd int, name string, readonly bool) error {
	if err := nameArgs(name, BtrfsSubvolNameMax); err != nil {
		return err
	}
	a := BtrfsVolArgsV2{Fd: int64(srcfd)}
	if readonly {
		a.Flags = BtrfsSubvolRdonly
	}
	copy(a.Name[:], name)
	err := ioctl(dirfd, "BTRFS_IOC_SNAP_CREATE_V2", BtrfsIocSnapCreateV2, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsSnapDestroyName deletes the subvolume name in the directory dirfd
// (BTRFS_IOC_SNAP_DESTROY_V2).
func BtrfsSnapDestroyName(dirfd int, name string) error {
	if err := nameArgs(name, BtrfsSubvolNameMax); err != nil {
		return err
	}
	var a BtrfsVolArgsV2
	copy(a.Name[:], name)
	err := ioctl(dirfd, "BTRFS_IOC_SNAP_DESTROY_V2", BtrfsIocSnapDestroyV2, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsSnapDestroyID deletes subvolume id of the filesystem fd is on
// (BTRFS_IOC_SNAP_DESTROY_V2 with BTRFS_SUBVOL_SPEC_BY_ID, Linux 5.7).
func BtrfsSnapDestroyID(fd int, id uint64) error {
	a := BtrfsVolArgsV2{Flags: BtrfsSubvolSpecByID}
	a.SetID(id)
	err := ioctl(fd, "BTRFS_IOC_SNAP_DESTROY_V2", BtrfsIocSnapDestroyV2, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsInoLookup resolves objectid (a directory inode) in tree treeid to
// its path from the tree's root, with a trailing '/' unless empty
// (BTRFS_IOC_INO_LOOKUP). treeid 0 means the tree fd is in; the tree id
// comes back either way.
func BtrfsInoLookup(fd int, treeid, objectid uint64) (uint64, string, error) {
	a := BtrfsInoLookupArgs{TreeID: treeid, ObjectID: objectid}
	err := ioctl(fd, "BTRFS_IOC_INO_LOOKUP", BtrfsIocInoLookup, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	if err != nil {
		return 0, "", err
	}
	n := bytes.IndexByte(a.Name[:], 0)
	if n < 0 {
		n = len(a.Name)
	}
	return a.TreeID, string(a.Name[:n]), nil
}

// BtrfsDefaultSubvol sets the default subvolume (BTRFS_IOC_DEFAULT_SUBVOL).
func BtrfsDefaultSubvol(fd int, id uint64) error {
	v := id
	err := ioctl(fd, "BTRFS_IOC_DEFAULT_SUBVOL", BtrfsIocDefaultSubvol, unsafe.Pointer(&v))
	runtime.KeepAlive(&v)
	return err
}

// BtrfsSubvolGetflags reads the flags of the subvolume whose root fd is.
func BtrfsSubvolGetflags(fd int) (uint64, error) {
	var v uint64
	err := ioctl(fd, "BTRFS_IOC_SUBVOL_GETFLAGS", BtrfsIocSubvolGetflags, unsafe.Pointer(&v))
	runtime.KeepAlive(&v)
	return v, err
}

// BtrfsSubvolSetflags sets them (only BTRFS_SUBVOL_RDONLY can change).
func BtrfsSubvolSetflags(fd int, flags uint64) error {
	v := flags
	err := ioctl(fd, "BTRFS_IOC_SUBVOL_SETFLAGS", BtrfsIocSubvolSetflags, unsafe.Pointer(&v))
	runtime.KeepAlive(&v)
	return err
}

// BtrfsSync commits the current transaction (BTRFS_IOC_SYNC).
func BtrfsSync(fd int) error {
	return ioctl(fd, "BTRFS_IOC_SYNC", BtrfsIocSync, nil)
}

// BtrfsAddDev adds the block device at path (BTRFS_IOC_ADD_DEV).
func BtrfsAddDev(fd int, path string) error {
	var a BtrfsVolArgs
	if path == "" || len(path) > BtrfsPathNameMax {
		return fmt.Errorf("fsioctl: btrfs device path %q too long", path)
	}
	copy(a.Name[:], path)
	err := ioctl(fd, "BTRFS_IOC_ADD_DEV", BtrfsIocAddDev, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsRmDev removes device devid (BTRFS_IOC_RM_DEV_V2 by id). It
// relocates every chunk off the device first and blocks until done.
func BtrfsRmDev(fd int, devid uint64) error {
	a := BtrfsVolArgsV2{Flags: BtrfsDeviceSpecByID}
	a.SetID(devid)
	err := ioctl(fd, "BTRFS_IOC_RM_DEV_V2", BtrfsIocRmDevV2, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsScrub runs BTRFS_IOC_SCRUB on a.Devid; it blocks until the scrub of
// that device ends (finished, cancelled: ECANCELED) and fills a.Progress.
func BtrfsScrub(fd int, a *BtrfsScrubArgs) error {
	err := ioctl(fd, "BTRFS_IOC_SCRUB", BtrfsIocScrub, unsafe.Pointer(a))
	runtime.KeepAlive(a)
	return err
}

// BtrfsScrubProgressOf reads the progress of the running scrub of a.Devid
// (ENOTCONN when none runs).
func BtrfsScrubProgressOf(fd int, a *BtrfsScrubArgs) error {
	err := ioctl(fd, "BTRFS_IOC_SCRUB_PROGRESS", BtrfsIocScrubProgress, unsafe.Pointer(a))
	runtime.KeepAlive(a)
	return err
}

// BtrfsScrubCancel cancels every running scrub of the filesystem (ENOTCONN
// when none runs).
func BtrfsScrubCancel(fd int) error {
	return ioctl(fd, "BTRFS_IOC_SCRUB_CANCEL", BtrfsIocScrubCancel, nil)
}

// BtrfsBalance runs BTRFS_IOC_BALANCE_V2; it blocks until the balance
// ends (paused or cancelled: ECANCELED) and a.Stat holds its counts.
func BtrfsBalance(fd int, a *BtrfsBalanceIoctlArgs) error {
	err := ioctl(fd, "BTRFS_IOC_BALANCE_V2", BtrfsIocBalanceV2, unsafe.Pointer(a))
	runtime.KeepAlive(a)
	return err
}

// BtrfsBalanceCtl pauses or cancels the running balance (ENOTCONN when
// none runs).
func BtrfsBalanceCtl(fd int, cmd int) error {
	return ioctlVal(fd, "BTRFS_IOC_BALANCE_CTL", BtrfsIocBalanceCtl, uintptr(cmd))
}

// BtrfsBalanceProgressOf reads the running or paused balance's state and
// counts (ENOTCONN when there is none).
func BtrfsBalanceProgressOf(fd int) (BtrfsBalanceIoctlArgs, error) {
	var a BtrfsBalanceIoctlArgs
	err := ioctl(fd, "BTRFS_IOC_BALANCE_PROGRESS", BtrfsIocBalanceProgress, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return a, err
}

// BtrfsQuotaCtl runs BTRFS_IOC_QUOTA_CTL with cmd.
func BtrfsQuotaCtl(fd int, cmd uint64) error {
	a := BtrfsQuotaCtlArgs{Cmd: cmd}
	err := ioctl(fd, "BTRFS_IOC_QUOTA_CTL", BtrfsIocQuotaCtl, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsQuotaRescanWait blocks until a running quota rescan ends.
func BtrfsQuotaRescanWait(fd int) error {
	return ioctl(fd, "BTRFS_IOC_QUOTA_RESCAN_WAIT", BtrfsIocQuotaRescanWait, nil)
}

// BtrfsQgroupLimitSet runs BTRFS_IOC_QGROUP_LIMIT.
func BtrfsQgroupLimitSet(fd int, a *BtrfsQgroupLimitArgs) error {
	err := ioctl(fd, "BTRFS_IOC_QGROUP_LIMIT", BtrfsIocQgroupLimit, unsafe.Pointer(a))
	runtime.KeepAlive(a)
	return err
}
