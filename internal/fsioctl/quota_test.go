package fsioctl

import (
	"testing"
	"unsafe"
)

// Sizes and offsets of include/uapi/linux/quota.h (if_dqblk, if_nextdqblk,
// if_dqinfo) and fs.h (fsxattr), which have the same layout on every
// architecture (only fixed-width members, 64-bit aligned).
func TestQuotaLayout(t *testing.T) {
	var d IfDqblk
	var n IfNextDqblk
	var i IfDqinfo
	var x Fsxattr
	checkOffsets(t, []off{
		{"sizeof(if_dqblk)", unsafe.Sizeof(d), 72},
		{"dqb_curspace", unsafe.Offsetof(d.CurSpace), 16},
		{"dqb_btime", unsafe.Offsetof(d.BTime), 48},
		{"dqb_valid", unsafe.Offsetof(d.Valid), 64},
		{"sizeof(if_nextdqblk)", unsafe.Sizeof(n), 72},
		{"if_nextdqblk.dqb_valid", unsafe.Offsetof(n.Valid), 64},
		{"if_nextdqblk.dqb_id", unsafe.Offsetof(n.ID), 68},
		{"sizeof(if_dqinfo)", unsafe.Sizeof(i), 24},
		{"dqi_flags", unsafe.Offsetof(i.Flags), 16},
		{"dqi_valid", unsafe.Offsetof(i.Valid), 20},
		{"sizeof(fsxattr)", unsafe.Sizeof(x), 28},
		{"fsx_projid", unsafe.Offsetof(x.ProjID), 12},
		{"fsx_cowextsize", unsafe.Offsetof(x.CowExtSize), 16},
	})
}

func TestQuotaCommandWords(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint32
	}{
		{"QCMD(Q_GETQUOTA, USRQUOTA)", QCmd(QGetQuota, UsrQuota), 0x80000700},
		{"QCMD(Q_SETQUOTA, GRPQUOTA)", QCmd(QSetQuota, GrpQuota), 0x80000801},
		{"QCMD(Q_GETNEXTQUOTA, PRJQUOTA)", QCmd(QGetNextQuota, PrjQuota), 0x80000902},
		{"QCMD(Q_GETINFO, PRJQUOTA)", QCmd(QGetInfo, PrjQuota), 0x80000502},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if uintptr(unsafe.Sizeof(uintptr(0))) == 8 && archIOC.dirShift == 30 {
		// x86-64: FS_IOC_FSGETXATTR 0x801c581f, FS_IOC_FSSETXATTR 0x401c5820.
		if FSIocFSGetXattr != 0x801c581f || FSIocFSSetXattr != 0x401c5820 {
			t.Errorf("FS_IOC_FSGETXATTR %#x FS_IOC_FSSETXATTR %#x", FSIocFSGetXattr, FSIocFSSetXattr)
		}
	}
}
