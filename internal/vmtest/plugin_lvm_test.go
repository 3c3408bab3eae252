package vmtest

import (
	"strings"
	"testing"
	"time"
)

// guestDMThin boots one guest with device-mapper (thin and snapshot
// targets) and two SATA disks, and runs the test binary pkg builds with
// its test run, the disks in env as "DEV1,DEV2", under EOS_STORAGE_STRICT=1.
// It runs in parallel with the other parallel guests: each is one emulated
// CPU.
func guestDMThin(t *testing.T, pkg, bin, run, env string, timeout time.Duration) string {
	a := Require(t)
	t.Parallel()
	path := guestTestBinary(t, pkg, bin)
	mods := append(DriverModules(), "loop", "ext4", "dm_mod", "dm_thin_pool", "dm_snapshot", "dm_bufio", "dm_persistent_data")
	have := presentModules(a, mods)
	res := RunTest(t, Config{
		Disks: []Disk{
			{Kind: SATA, Serial: "EOSDMT1", Size: 512 << 20},
			{Kind: SATA, Serial: "EOSDMT2", Size: 512 << 20},
		},
		Modules:   have,
		MemoryMiB: 1024,
		Timeout:   timeout,
		Files:     []File{{Src: path, Dst: "/usr/local/bin/" + bin}},
		Tools: []string{"lvm", "dmsetup", "thin_check", "thin_dump", "thin_repair", "mkfs.ext4", "mke2fs",
			"e2fsck", "resize2fs", "mount", "umount", "losetup"},
		Script: `set -e
` + guestLVMConf + `set -- $(for d in /sys/block/sd*; do echo /dev/${d##*/}; done)
EOS_STORAGE_STRICT=1 ` + env + `="$1,$2" /usr/local/bin/` + bin + ` -test.run '^` + run + `$' -test.v -test.count=1 -test.timeout ` + timeout.String() + ` || echo "exit $?"
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	if !strings.Contains(out, "--- PASS: "+run) {
		t.Errorf("the guest's %s did not pass:\n%s", run, res.Stderr)
	}
	return out
}

// TestGuestPluginLVM runs plugin/lvm's TestGuestConformance in a guest:
// plugintest on a VG with a thin pool, thin clones, the over-provisioning
// limit, the policy's refusal, a filesystem shrink.
func TestGuestPluginLVM(t *testing.T) {
	guestDMThin(t, "./plugin/lvm", "pluginlvm.test", "TestGuestConformance", "EOS_STORAGE_PLUGIN_LVM", 15*time.Minute)
}

// TestGuestCSILVMThin runs csi's TestGuestSanityLVMThin in a guest:
// csi-sanity against the driver on lvm thin.
func TestGuestCSILVMThin(t *testing.T) {
	guestDMThin(t, "./csi", "csi.test", "TestGuestSanityLVMThin", "EOS_STORAGE_CSI_LVM", 20*time.Minute)
}
