package vmtest

import (
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestGuestLVMLifecycle boots one guest with device-mapper (dm_mod,
// dm_thin_pool, dm_snapshot, dm_cache, dm_cache_smq, dm_raid and raid1;
// under EOS_STORAGE_STRICT=1 a missing one fails the test) and two SATA
// disks, and runs lvm.TestGuestLifecycle there under
// EOS_STORAGE_STRICT=1: activation, thin pools extended in data and
// metadata, thin LVs and snapshots, a classic snapshot merged back,
// cache attach/detach, a raid1 LV synced, grown and removed, and
// filesystem-aware resizes of active LVs (ext4
// grown online and shrunk offline, xfs grown and its shrink refused) with
// data checksums compared after each change.
func TestGuestLVMLifecycle(t *testing.T) {
	a := Require(t)
	bin := guestTestBinary(t, "./lvm", "lvm.test")
	mods := append(DriverModules(), "loop", "ext4", "xfs", "dm_mod", "dm_thin_pool", "dm_snapshot", "dm_bufio", "dm_persistent_data")
	// The cache and raid1 parts need their modules in the assets
	// (scripts/vm-assets.sh carries them). Missing under
	// EOS_STORAGE_STRICT=1 is a failure, not a silent skip; otherwise the
	// guest is told to leave the part out ("off") and says so.
	part := func(what string, need ...string) string {
		var missing []string
		for _, m := range need {
			if !a.HasModule(m) {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 {
			mods = append(mods, need...)
			return "1"
		}
		if testenv.Strict() {
			t.Fatalf("VM assets lack %v for the %s part (rerun scripts/vm-assets.sh as root)", missing, what)
		}
		t.Logf("VM assets lack %v: the %s part is left out", missing, what)
		return "off"
	}
	cacheEnv := part("cache", "dm_cache", "dm_cache_smq")
	raidEnv := part("raid1", "raid1", "dm_raid")
	have := presentModules(a, mods)
	res := RunTest(t, Config{
		Disks: []Disk{
			{Kind: SATA, Serial: "EOSLVMLC1", Size: 1 << 30},
			{Kind: SATA, Serial: "EOSLVMLC2", Size: 1 << 30},
		},
		Modules: have,
		// About two minutes on an idle machine; CI shares two cores.
		Timeout: 8 * time.Minute,
		Files:   []File{{Src: bin, Dst: "/usr/local/bin/lvm.test"}},
		Tools: []string{"lvm", "thin_check", "thin_dump", "thin_repair", "cache_check", "mkfs.ext4", "mkfs.xfs",
			"e2fsck", "resize2fs", "xfs_growfs", "losetup", "mount", "umount", "dumpe2fs"},
		Script: `set -e
` + guestLVMConf + `set -- $(for d in /sys/block/sd*; do echo /dev/${d##*/}; done)
EOS_STORAGE_STRICT=1 EOS_STORAGE_LVM_CACHE=` + cacheEnv + ` EOS_STORAGE_LVM_RAID=` + raidEnv + ` EOS_STORAGE_LVM_LIFECYCLE="$1,$2" /usr/local/bin/lvm.test -test.run '^TestGuestLifecycle$' -test.v -test.count=1
`,
	})
	out := string(res.Stdout)
	t.Logf("guest (cache %s, raid1 %s):\n%s", cacheEnv, raidEnv, out)
	if !strings.Contains(out, "--- PASS: TestGuestLifecycle") {
		t.Fatalf("the guest lifecycle test did not pass:\n%s\n%s", out, res.Stderr)
	}
	if cacheEnv == "1" && !strings.Contains(out, "cache detached:") {
		t.Fatalf("the guest did not run the cache part:\n%s", out)
	}
	if raidEnv == "1" && !strings.Contains(out, "raid1 synced") {
		t.Fatalf("the guest did not run the raid1 part:\n%s", out)
	}
}

// guestLVMConf starts a guest script that runs lvm: no udev, D-Bus,
// dmeventd or lvmpolld (none runs in the guest; a thin LV's activation
// tried dmeventd and took twice as long), no md or multipath component
// scans, no metadata backups or archives of the guest's own.
const guestLVMConf = `export LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p /etc/lvm
cat >/etc/lvm/lvm.conf <<'CONF'
devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 md_component_detection = 0 multipath_component_detection = 0 }
global { notify_dbus = 0 use_lvmpolld = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
`

// presentModules keeps the modules the assets carry (and the drivers
// every guest loads).
func presentModules(a Assets, mods []string) []string {
	var have []string
	for _, m := range mods {
		if a.HasModule(m) || contains(DriverModules(), m) {
			have = append(have, m)
		}
	}
	return have
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
