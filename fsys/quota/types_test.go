package quota

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

func TestEncodeLimits(t *testing.T) {
	d := toKernel(Limits{BlockSoft: 1024, BlockHard: 1025, InodeSoft: 7, InodeHard: 9})
	if d.BSoftLimit != 1 || d.BHardLimit != 2 || d.ISoftLimit != 7 || d.IHardLimit != 9 || d.Valid != fsioctl.QifLimits {
		t.Errorf("toKernel = %+v (want bsoft 1 KiB, bhard rounded up to 2 KiB, QIF_LIMITS only)", d)
	}
	if z := toKernel(Limits{}); z.BSoftLimit != 0 || z.BHardLimit != 0 {
		t.Errorf("no limits encode as %+v", z)
	}
}

func TestDecodeUsage(t *testing.T) {
	d := fsioctl.IfDqblk{BSoftLimit: 4, BHardLimit: 8, CurSpace: 8192, ISoftLimit: 1, IHardLimit: 3, CurInodes: 2, BTime: 1700000000, Valid: fsioctl.QifAll}
	u := fromKernel(Group, 42, &d)
	want := Usage{Kind: Group, ID: 42, Bytes: 8192, Inodes: 2,
		Limits:            Limits{BlockSoft: 4096, BlockHard: 8192, InodeSoft: 1, InodeHard: 3},
		BlockGraceExpires: time.Unix(1700000000, 0).UTC(),
		OverSoftBlocks:    true, OverHardBlocks: true, OverSoftInodes: true}
	if u != want {
		t.Errorf("fromKernel =\n%+v\nwant\n%+v", u, want)
	}
	if u := fromKernel(User, 1, &fsioctl.IfDqblk{CurSpace: 1 << 30}); u.OverSoftBlocks || u.OverHardBlocks {
		t.Errorf("no limits yet over: %+v", u)
	}
}

func TestKinds(t *testing.T) {
	for _, k := range []Kind{User, Group, Project, Subvolume} {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseKind("tenant"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseKind(tenant) = %v", err)
	}
	if kernelType(User) != fsioctl.UsrQuota || kernelType(Group) != fsioctl.GrpQuota || kernelType(Project) != fsioctl.PrjQuota {
		t.Error("kinds do not map to USRQUOTA/GRPQUOTA/PRJQUOTA")
	}
	if err := checkID(1<<32 - 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("id 2^32-1 = %v", err)
	}
}

func TestUnavailableErrors(t *testing.T) {
	off := &UnavailableError{Path: "/m", FSType: "ext4", NotEnabled: true, Reason: "r", Err: unix.ESRCH}
	if !errors.Is(off, ErrNotSupported) || !errors.Is(off, ErrNotEnabled) || !errors.Is(off, unix.ESRCH) {
		t.Errorf("not-enabled error does not match: %v", off)
	}
	no := &UnavailableError{Path: "/m", FSType: "xfs", Reason: "the kernel lacks CONFIG_XFS_QUOTA"}
	if !errors.Is(no, ErrNotSupported) || errors.Is(no, ErrNotEnabled) {
		t.Errorf("not-supported error matches wrongly: %v", no)
	}
	if _, err := MountOptions("xfs"); err != nil {
		t.Fatal(err)
	}
	if o, _ := MountOptions("xfs", Project); len(o) != 1 || o[0] != "pquota" {
		t.Errorf("MountOptions(xfs, project) = %v", o)
	}
	if _, err := MountOptions("vfat"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("MountOptions(vfat) = %v", err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(WithRoot("relative")); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithRoot(relative) = %v", err)
	}
	if _, err := New(WithRunner(nil)); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithRunner(nil) = %v", err)
	}
	if _, err := New(WithLogger(nil)); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithLogger(nil) = %v", err)
	}
}
