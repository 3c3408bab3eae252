package fsioctl

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Quota types and command words from include/uapi/linux/quota.h. A command
// word is QCMD(cmd, type) = cmd<<8 | type&0xff; it is a 32-bit value (Q_*
// commands have bit 23 set, so they do not fit a signed 16-bit int).
const (
	UsrQuota = 0
	GrpQuota = 1
	PrjQuota = 2

	QSync         uint32 = 0x800001
	QQuotaOn      uint32 = 0x800002
	QQuotaOff     uint32 = 0x800003
	QGetFmt       uint32 = 0x800004
	QGetInfo      uint32 = 0x800005
	QSetInfo      uint32 = 0x800006
	QGetQuota     uint32 = 0x800007
	QSetQuota     uint32 = 0x800008
	QGetNextQuota uint32 = 0x800009

	// Quota formats (Q_GETFMT).
	QfmtVFSOld = 1
	QfmtVFSV0  = 2
	QfmtOCFS2  = 3
	QfmtVFSV1  = 4

	// if_dqblk.dqb_valid bits.
	QifBLimits = 1
	QifSpace   = 2
	QifILimits = 4
	QifInodes  = 8
	QifBTime   = 16
	QifITime   = 32
	QifLimits  = QifBLimits | QifILimits
	QifUsage   = QifSpace | QifInodes
	QifTimes   = QifBTime | QifITime
	QifAll     = QifLimits | QifUsage | QifTimes

	// if_dqinfo.dqi_valid bits.
	IifBGrace = 1
	IifIGrace = 2
	IifFlags  = 4
	IifAll    = IifBGrace | IifIGrace | IifFlags

	// QifDqblkSize is the unit of dqb_bhardlimit and dqb_bsoftlimit (1 KiB);
	// dqb_curspace is in bytes.
	QifDqblkSize = 1024

	// SysQuotactlFD is quotactl_fd(2)'s number (Linux 5.14), the same on
	// every architecture of the unified syscall table.
	SysQuotactlFD = 443
)

// QCmd builds a quotactl command word.
func QCmd(cmd uint32, typ int) uint32 { return cmd<<8 | uint32(typ)&0xff }

// IfDqblk is struct if_dqblk (72 bytes: 68 plus tail padding).
type IfDqblk struct {
	BHardLimit uint64 // 1 KiB blocks
	BSoftLimit uint64 // 1 KiB blocks
	CurSpace   uint64 // bytes
	IHardLimit uint64
	ISoftLimit uint64
	CurInodes  uint64
	BTime      uint64 // grace expiry, seconds since the epoch
	ITime      uint64
	Valid      uint32
	_          uint32
}

// IfNextDqblk is struct if_nextdqblk: if_dqblk with the id the kernel
// found (Q_GETNEXTQUOTA) in the padding's place.
type IfNextDqblk struct {
	BHardLimit uint64
	BSoftLimit uint64
	CurSpace   uint64
	IHardLimit uint64
	ISoftLimit uint64
	CurInodes  uint64
	BTime      uint64
	ITime      uint64
	Valid      uint32
	ID         uint32
}

// IfDqinfo is struct if_dqinfo: grace periods in seconds.
type IfDqinfo struct {
	BGrace uint64
	IGrace uint64
	Flags  uint32
	Valid  uint32
}

// QuotactlFD is quotactl_fd(fd, cmd, id, addr): fd is any open file of the
// filesystem (its mountpoint). ENOSYS before Linux 5.14.
func QuotactlFD(fd int, cmd uint32, id uint32, addr unsafe.Pointer) error {
	_, _, e := unix.Syscall6(SysQuotactlFD, uintptr(fd), uintptr(cmd), uintptr(id), uintptr(addr), 0, 0)
	if e != 0 {
		return os.NewSyscallError("quotactl_fd", e)
	}
	return nil
}

// Quotactl is quotactl(cmd, special, id, addr) on the block device special.
func Quotactl(cmd uint32, special string, id uint32, addr unsafe.Pointer) error {
	p, err := unix.BytePtrFromString(special)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall6(unix.SYS_QUOTACTL, uintptr(cmd), uintptr(unsafe.Pointer(p)), uintptr(id), uintptr(addr), 0, 0)
	if e != 0 {
		return os.NewSyscallError("quotactl", e)
	}
	return nil
}

// Fsxattr is struct fsxattr of include/uapi/linux/fs.h (28 bytes).
type Fsxattr struct {
	XFlags     uint32
	ExtSize    uint32
	NExtents   uint32
	ProjID     uint32
	CowExtSize uint32
	Pad        [8]byte
}

// FS_XFLAG_PROJINHERIT: new files and directories inherit the project id.
const FSXflagProjInherit = 0x00000200

// FS_IOC_FSGETXATTR and FS_IOC_FSSETXATTR (_IOR/_IOW('X', 31/32, struct fsxattr)).
var (
	FSIocFSGetXattr = archIOC.ior('X', 31, unsafe.Sizeof(Fsxattr{}))
	FSIocFSSetXattr = archIOC.iow('X', 32, unsafe.Sizeof(Fsxattr{}))
)

// GetFsxattr reads the file's extended attributes (project id, xflags).
func GetFsxattr(fd int) (Fsxattr, error) {
	var x Fsxattr
	err := ioctl(fd, "FS_IOC_FSGETXATTR", FSIocFSGetXattr, unsafe.Pointer(&x))
	return x, err
}

// SetFsxattr writes them (project id changes need CAP_FOWNER-ish rights:
// the caller must own the file, and only init-namespace root may set a
// project id other than the current one).
func SetFsxattr(fd int, x *Fsxattr) error {
	return ioctl(fd, "FS_IOC_FSSETXATTR", FSIocFSSetXattr, unsafe.Pointer(x))
}
