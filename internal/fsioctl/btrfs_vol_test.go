package fsioctl

import (
	"context"
	"errors"
	"math"
	"testing"
	"unsafe"
)

// Sizes, offsets and request numbers of include/uapi/linux/btrfs.h and
// btrfs_tree.h (linux-libc-dev 6.x) on LP64 x86-64/arm64, as a C program
// including those headers prints them (sizeof, offsetof, the _IOC macros).
func TestBtrfsVolLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 || archIOC != genericIOC {
		t.Skip("LP64 layout with the generic _IOC encoding")
	}
	var v BtrfsVolArgsV2
	var l BtrfsInoLookupArgs
	var s BtrfsScrubArgs
	var p BtrfsScrubProgress
	var ba BtrfsBalanceArgs
	var b BtrfsBalanceIoctlArgs
	var q BtrfsQgroupLimitArgs
	checkOffsets(t, []off{
		{"sizeof(btrfs_ioctl_vol_args_v2)", unsafe.Sizeof(v), 4096},
		{"vol_args_v2.flags", unsafe.Offsetof(v.Flags), 16},
		{"vol_args_v2.size", unsafe.Offsetof(v.Size), 24},
		{"vol_args_v2.name", unsafe.Offsetof(v.Name), 56},
		{"sizeof(btrfs_ioctl_ino_lookup_args)", unsafe.Sizeof(l), 4096},
		{"ino_lookup.name", unsafe.Offsetof(l.Name), 16},
		{"sizeof(btrfs_scrub_progress)", unsafe.Sizeof(p), 120},
		{"scrub_progress.last_physical", unsafe.Offsetof(p.LastPhysical), 104},
		{"scrub_progress.unverified_errors", unsafe.Offsetof(p.UnverifiedErrors), 112},
		{"sizeof(btrfs_ioctl_scrub_args)", unsafe.Sizeof(s), 1024},
		{"scrub_args.progress", unsafe.Offsetof(s.Progress), 32},
		{"sizeof(btrfs_balance_args)", unsafe.Sizeof(ba), 136},
		{"balance_args.target", unsafe.Offsetof(ba.Target), 56},
		{"balance_args.flags", unsafe.Offsetof(ba.Flags), 64},
		{"balance_args.limit", unsafe.Offsetof(ba.Limit), 72},
		{"balance_args.stripes_min", unsafe.Offsetof(ba.StripesMin), 80},
		{"sizeof(btrfs_ioctl_balance_args)", unsafe.Sizeof(b), 1024},
		{"balance.data", unsafe.Offsetof(b.Data), 16},
		{"balance.meta", unsafe.Offsetof(b.Meta), 152},
		{"balance.sys", unsafe.Offsetof(b.Sys), 288},
		{"balance.stat", unsafe.Offsetof(b.Stat), 424},
		{"sizeof(btrfs_ioctl_quota_ctl_args)", unsafe.Sizeof(BtrfsQuotaCtlArgs{}), 16},
		{"sizeof(btrfs_ioctl_qgroup_limit_args)", unsafe.Sizeof(q), 48},
		{"qgroup_limit_args.lim", unsafe.Offsetof(q.Lim), 8},
	})
	reqs := []struct {
		name      string
		got, want uintptr
	}{
		{"BTRFS_IOC_SNAP_CREATE_V2", BtrfsIocSnapCreateV2, 0x50009417},
		{"BTRFS_IOC_SUBVOL_CREATE_V2", BtrfsIocSubvolCreateV2, 0x50009418},
		{"BTRFS_IOC_SNAP_DESTROY_V2", BtrfsIocSnapDestroyV2, 0x5000943f},
		{"BTRFS_IOC_INO_LOOKUP", BtrfsIocInoLookup, 0xd0009412},
		{"BTRFS_IOC_DEFAULT_SUBVOL", BtrfsIocDefaultSubvol, 0x40089413},
		{"BTRFS_IOC_SUBVOL_GETFLAGS", BtrfsIocSubvolGetflags, 0x80089419},
		{"BTRFS_IOC_SUBVOL_SETFLAGS", BtrfsIocSubvolSetflags, 0x4008941a},
		{"BTRFS_IOC_ADD_DEV", BtrfsIocAddDev, 0x5000940a},
		{"BTRFS_IOC_RM_DEV_V2", BtrfsIocRmDevV2, 0x5000943a},
		{"BTRFS_IOC_SCRUB", BtrfsIocScrub, 0xc400941b},
		{"BTRFS_IOC_SCRUB_CANCEL", BtrfsIocScrubCancel, 0x941c},
		{"BTRFS_IOC_SCRUB_PROGRESS", BtrfsIocScrubProgress, 0xc400941d},
		{"BTRFS_IOC_BALANCE_V2", BtrfsIocBalanceV2, 0xc4009420},
		{"BTRFS_IOC_BALANCE_CTL", BtrfsIocBalanceCtl, 0x40049421},
		{"BTRFS_IOC_BALANCE_PROGRESS", BtrfsIocBalanceProgress, 0x84009422},
		{"BTRFS_IOC_QUOTA_CTL", BtrfsIocQuotaCtl, 0xc0109428},
		{"BTRFS_IOC_QGROUP_LIMIT", BtrfsIocQgroupLimit, 0x8030942b},
		{"BTRFS_IOC_QUOTA_RESCAN_WAIT", BtrfsIocQuotaRescanWait, 0x942e},
		{"BTRFS_IOC_SYNC", BtrfsIocSync, 0x9408},
	}
	for _, r := range reqs {
		if r.got != r.want {
			t.Errorf("%s = %#x, header says %#x", r.name, r.got, r.want)
		}
	}
	// Flags and keys (btrfs.h, btrfs_tree.h).
	consts := []struct {
		name      string
		got, want uint64
	}{
		{"BTRFS_SUBVOL_RDONLY", BtrfsSubvolRdonly, 0x2}, {"BTRFS_SUBVOL_SPEC_BY_ID", BtrfsSubvolSpecByID, 0x10},
		{"BTRFS_DEVICE_SPEC_BY_ID", BtrfsDeviceSpecByID, 0x8}, {"BTRFS_BALANCE_RESUME", BtrfsBalanceResume, 0x10},
		{"BTRFS_BALANCE_ARGS_CONVERT", BtrfsBalanceArgsConvert, 0x100}, {"BTRFS_BALANCE_ARGS_USAGE", BtrfsBalanceArgsUsage, 0x2},
		{"BTRFS_BALANCE_ARGS_DEVID", BtrfsBalanceArgsDevid, 0x4}, {"BTRFS_BALANCE_ARGS_SOFT", BtrfsBalanceArgsSoft, 0x200},
		{"BTRFS_QGROUP_INFO_KEY", BtrfsQgroupInfoKey, 0xf2}, {"BTRFS_QGROUP_LIMIT_KEY", BtrfsQgroupLimitKey, 0xf4},
		{"BTRFS_QGROUP_STATUS_KEY", BtrfsQgroupStatusKey, 0xf0}, {"BTRFS_ROOT_BACKREF_KEY", BtrfsRootBackrefKey, 0x90},
		{"BTRFS_ROOT_ITEM_KEY", BtrfsRootItemKey, 0x84}, {"BTRFS_DIR_ITEM_KEY", BtrfsDirItemKey, 0x54},
		{"BTRFS_CHUNK_ITEM_KEY", BtrfsChunkItemKey, 0xe4}, {"BTRFS_SUBVOL_NAME_MAX", BtrfsSubvolNameMax, 4039},
		{"BTRFS_INO_LOOKUP_PATH_MAX", BtrfsInoLookupPathMax, 4080},
	}
	for _, c := range consts {
		if c.got != c.want {
			t.Errorf("%s = %#x, header says %#x", c.name, c.got, c.want)
		}
	}
}

func TestNextKey(t *testing.T) {
	cases := []struct {
		o    uint64
		t    uint32
		off  uint64
		want [3]uint64
		ok   bool
	}{
		{1, 2, 3, [3]uint64{1, 2, 4}, true},
		{1, 2, math.MaxUint64, [3]uint64{1, 3, 0}, true},
		{1, 255, math.MaxUint64, [3]uint64{2, 0, 0}, true},
		{math.MaxUint64, 255, math.MaxUint64, [3]uint64{}, false},
	}
	for _, c := range cases {
		got, ok := nextKey(c.o, c.t, c.off)
		if got != c.want || ok != c.ok {
			t.Errorf("nextKey(%d,%d,%d) = %v %v", c.o, c.t, c.off, got, ok)
		}
	}
	if !keyLess(1, 2, 3, 1, 2, 4) || keyLess(2, 0, 0, 1, 255, 9) || keyLess(1, 2, 3, 1, 2, 3) {
		t.Error("keyLess")
	}
}

func TestBtrfsSearchBadFd(t *testing.T) {
	err := BtrfsSearch(context.Background(), -1, BtrfsSearchRange(1), func(BtrfsSearchHeader, []byte) error { return nil })
	if err == nil {
		t.Fatal("search on fd -1 succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := BtrfsSearch(ctx, -1, BtrfsSearchRange(1), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
	if err := nameArgs("a/b", 10); err == nil {
		t.Error("name with a slash accepted")
	}
}
