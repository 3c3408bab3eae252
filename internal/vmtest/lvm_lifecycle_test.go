package vmtest

import (
	"strings"
	"testing"
)

// TestGuestLVMLifecycle boots one guest with device-mapper (dm_mod,
// dm_thin_pool, dm_snapshot, dm_cache and dm_raid where the kernel has
// them) and two SATA disks, and runs lvm.TestGuestLifecycle there under
// EOS_STORAGE_STRICT=1: activation, thin pools extended in data and
// metadata, thin LVs and snapshots, a classic snapshot merged back,
// cache attach/detach, and filesystem-aware resizes of active LVs (ext4
// grown online and shrunk offline, xfs grown and its shrink refused) with
// data checksums compared after each change.
func TestGuestLVMLifecycle(t *testing.T) {
	a := Require(t)
	bin := guestTestBinary(t, "./lvm", "lvm.test")
	mods := append(DriverModules(), "loop", "ext4", "xfs", "dm_mod", "dm_thin_pool", "dm_snapshot", "dm_bufio", "dm_persistent_data")
	cache := a.HasModule("dm_cache") && a.HasModule("dm_cache_smq")
	if cache {
		mods = append(mods, "dm_cache", "dm_cache_smq")
	}
	for _, m := range []string{"raid1", "dm_raid"} {
		if a.HasModule(m) {
			mods = append(mods, m)
		}
	}
	var have []string
	for _, m := range mods {
		if a.HasModule(m) || contains(DriverModules(), m) {
			have = append(have, m)
		}
	}
	cacheEnv := "0"
	if cache {
		cacheEnv = "1"
	}
	res := RunTest(t, Config{
		Disks: []Disk{
			{Kind: SATA, Serial: "EOSLVMLC1", Size: 1 << 30},
			{Kind: SATA, Serial: "EOSLVMLC2", Size: 1 << 30},
		},
		Modules: have,
		Files:   []File{{Src: bin, Dst: "/usr/local/bin/lvm.test"}},
		Tools: []string{"lvm", "thin_check", "thin_dump", "thin_repair", "cache_check", "mkfs.ext4", "mkfs.xfs",
			"e2fsck", "resize2fs", "xfs_growfs", "losetup", "mount", "umount", "dumpe2fs"},
		Script: `set -e
export LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p /etc/lvm
cat >/etc/lvm/lvm.conf <<'CONF'
devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { notify_dbus = 0 }
activation { udev_sync = 0 udev_rules = 0 }
backup { backup = 0 archive = 0 }
CONF
set -- $(for d in /sys/block/sd*; do echo /dev/${d##*/}; done)
EOS_STORAGE_STRICT=1 EOS_STORAGE_LVM_CACHE=` + cacheEnv + ` EOS_STORAGE_LVM_LIFECYCLE="$1,$2" /usr/local/bin/lvm.test -test.run '^TestGuestLifecycle$' -test.v -test.count=1
`,
	})
	out := string(res.Stdout)
	t.Logf("guest (cache %v):\n%s", cache, out)
	if !strings.Contains(out, "--- PASS: TestGuestLifecycle") {
		t.Fatalf("the guest lifecycle test did not pass:\n%s\n%s", out, res.Stderr)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
