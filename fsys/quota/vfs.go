package quota

import (
	"cmp"
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// ext4 and xfs through the kernel's generic quotactl interface (Q_GETQUOTA,
// Q_SETQUOTA, Q_GETNEXTQUOTA, Q_GETINFO, Q_SETINFO with if_dqblk and
// if_dqinfo). xfs implements it too (its quotactl operations translate to
// its own dquots), so one code path serves both; the xfs-only Q_X*
// commands are not used.

func kernelType(k Kind) int {
	switch k {
	case Group:
		return fsioctl.GrpQuota
	case Project:
		return fsioctl.PrjQuota
	}
	return fsioctl.UsrQuota
}

// quotactl runs cmd on the mount: quotactl_fd on its descriptor, or
// quotactl on its block device where the kernel has no quotactl_fd
// (ENOSYS before Linux 5.14).
func (m *Manager) quotactl(mo *mount, cmd uint32, kind Kind, id uint32, addr unsafe.Pointer) error {
	qc := fsioctl.QCmd(cmd, kernelType(kind))
	err := fsioctl.QuotactlFD(mo.fd, qc, id, addr)
	if !errors.Is(err, unix.ENOSYS) || !m.noQuotactlFD(mo) {
		return err
	}
	dev, derr := m.device(mo)
	if derr != nil {
		return derr
	}
	return fsioctl.Quotactl(qc, dev, id, addr)
}

// noQuotactlFD tells a missing syscall (EBADF on -1 when it exists) from a
// filesystem's ENOSYS.
func (m *Manager) noQuotactlFD(mo *mount) bool {
	err := fsioctl.QuotactlFD(-1, fsioctl.QCmd(fsioctl.QGetInfo, 0), 0, nil)
	return errors.Is(err, unix.ENOSYS)
}

// unavailable turns quotactl's "no quotas" answers into *UnavailableError.
func (m *Manager) unavailable(mo *mount, kind Kind, err error) error {
	ue := &UnavailableError{Path: mo.path, FSType: mo.fstype, Kind: kind, Err: err}
	switch {
	case errors.Is(err, unix.ESRCH):
		ue.NotEnabled = true
		if mo.fstype == fsXFS {
			ue.Reason = "quotactl ESRCH: xfs was mounted without the " + xfsMountOption(kind) + " mount option"
		} else {
			ue.Reason = "quotactl ESRCH: quotas are not on for this filesystem; ext4 turns them on at mount when it has the quota feature (Enable: tune2fs -O quota -Q usrquota,grpquota,prjquota on the unmounted device), which needs a kernel with CONFIG_QFMT_V2"
		}
	case errors.Is(err, unix.ENOSYS):
		if mo.fstype == fsXFS {
			if _, serr := os.Stat(m.path("/proc/fs/xfs/xqm")); serr == nil {
				ue.NotEnabled = true
				ue.Reason = "xfs quota accounting is off: mount with " + xfsMountOption(kind)
			} else {
				ue.Reason = "the kernel lacks CONFIG_XFS_QUOTA (no /proc/fs/xfs/xqm)"
			}
		} else {
			ue.Reason = "the kernel lacks quota support (CONFIG_QUOTA, CONFIG_QUOTACTL)"
		}
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOTSUP):
		ue.Reason = "the filesystem does not support " + kind.String() + " quotas"
	case errors.Is(err, unix.EINVAL) && kind == Project && mo.fstype == fsExt4:
		ue.Reason = "ext4 without the project feature (mkfs.ext4 -O project, or tune2fs -O project while unmounted)"
	default:
		return &os.PathError{Op: "quotactl", Path: mo.path, Err: err}
	}
	return ue
}

func xfsMountOption(k Kind) string {
	switch k {
	case Group:
		return "gquota"
	case Project:
		return "pquota"
	}
	return "uquota"
}

func fromKernel(kind Kind, id uint64, d *fsioctl.IfDqblk) Usage {
	u := Usage{
		Kind: kind, ID: id, Bytes: d.CurSpace, Inodes: d.CurInodes,
		Limits: Limits{
			BlockSoft: d.BSoftLimit * fsioctl.QifDqblkSize,
			BlockHard: d.BHardLimit * fsioctl.QifDqblkSize,
			InodeSoft: d.ISoftLimit,
			InodeHard: d.IHardLimit,
		},
	}
	if d.BTime != 0 {
		u.BlockGraceExpires = time.Unix(int64(d.BTime), 0).UTC()
	}
	if d.ITime != 0 {
		u.InodeGraceExpires = time.Unix(int64(d.ITime), 0).UTC()
	}
	u.judge()
	return u
}

// toKernel encodes limits for Q_SETQUOTA: bytes rounded up to 1 KiB.
func toKernel(l Limits) fsioctl.IfDqblk {
	kb := func(b uint64) uint64 { return b/fsioctl.QifDqblkSize + boolU(b%fsioctl.QifDqblkSize != 0) }
	return fsioctl.IfDqblk{
		BSoftLimit: kb(l.BlockSoft), BHardLimit: kb(l.BlockHard),
		ISoftLimit: l.InodeSoft, IHardLimit: l.InodeHard,
		Valid: fsioctl.QifLimits,
	}
}

func boolU(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func checkID(id uint64) error {
	if id >= math.MaxUint32 { // (uint32)-1 is the kernel's invalid id
		return &idError{id}
	}
	return nil
}

type idError struct{ id uint64 }

func (e *idError) Error() string   { return "quota: id " + itoa(e.id) + " out of range (0 to 2^32-2)" }
func (e *idError) Is(t error) bool { return t == ErrInvalid }

func (m *Manager) vfsGet(mo *mount, kind Kind, id uint64) (*Usage, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var d fsioctl.IfDqblk
	if err := m.quotactl(mo, fsioctl.QGetQuota, kind, uint32(id), unsafe.Pointer(&d)); err != nil {
		return nil, m.unavailable(mo, kind, err)
	}
	u := fromKernel(kind, id, &d)
	return &u, nil
}

func (m *Manager) vfsSetLimits(mo *mount, kind Kind, id uint64, l Limits) error {
	if err := checkID(id); err != nil {
		return err
	}
	d := toKernel(l)
	if err := m.quotactl(mo, fsioctl.QSetQuota, kind, uint32(id), unsafe.Pointer(&d)); err != nil {
		return m.unavailable(mo, kind, err)
	}
	return nil
}

// vfsList walks Q_GETNEXTQUOTA from id 0 until ENOENT.
func (m *Manager) vfsList(ctx context.Context, mo *mount, kind Kind) ([]Usage, error) {
	us := make([]Usage, 0, 64)
	var id uint32
	var d fsioctl.IfNextDqblk
	for n := 0; ; n++ {
		if n&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		err := m.quotactl(mo, fsioctl.QGetNextQuota, kind, id, unsafe.Pointer(&d))
		if errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return nil, m.unavailable(mo, kind, err)
		}
		b := fsioctl.IfDqblk{BHardLimit: d.BHardLimit, BSoftLimit: d.BSoftLimit, CurSpace: d.CurSpace,
			IHardLimit: d.IHardLimit, ISoftLimit: d.ISoftLimit, CurInodes: d.CurInodes, BTime: d.BTime, ITime: d.ITime, Valid: d.Valid}
		us = append(us, fromKernel(kind, uint64(d.ID), &b))
		if d.ID < id || d.ID >= math.MaxUint32-1 {
			break
		}
		id = d.ID + 1
	}
	// Q_GETNEXTQUOTA answers in id order: sorting is only a safeguard.
	byID := func(a, b Usage) int { return cmp.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(us, byID) {
		slices.SortFunc(us, byID)
	}
	return us, nil
}

func (m *Manager) vfsGetGrace(mo *mount, kind Kind) (Grace, error) {
	var i fsioctl.IfDqinfo
	if err := m.quotactl(mo, fsioctl.QGetInfo, kind, 0, unsafe.Pointer(&i)); err != nil {
		return Grace{}, m.unavailable(mo, kind, err)
	}
	return Grace{Block: time.Duration(i.BGrace) * time.Second, Inode: time.Duration(i.IGrace) * time.Second}, nil
}

func (m *Manager) vfsSetGrace(mo *mount, kind Kind, g Grace) error {
	i := fsioctl.IfDqinfo{BGrace: uint64(g.Block / time.Second), IGrace: uint64(g.Inode / time.Second), Valid: fsioctl.IifBGrace | fsioctl.IifIGrace}
	if err := m.quotactl(mo, fsioctl.QSetInfo, kind, 0, unsafe.Pointer(&i)); err != nil {
		return m.unavailable(mo, kind, err)
	}
	return nil
}
