package vmtest

import (
	"strings"
	"testing"
	"time"
)

// TestGuestPluginLVM boots one guest with device-mapper and four SATA
// disks and runs, under EOS_STORAGE_STRICT=1, plugin/lvm's
// TestGuestConformance on two of them (plugintest on a VG with a thin
// pool, thin clones, the over-provisioning limit, the policy's refusal, a
// filesystem shrink) and csi's TestGuestSanityLVMThin on the other two
// (csi-sanity against the driver on lvm thin).
func TestGuestPluginLVM(t *testing.T) {
	a := Require(t)
	pbin := guestTestBinary(t, "./plugin/lvm", "pluginlvm.test")
	cbin := guestTestBinary(t, "./csi", "csi.test")
	mods := append(DriverModules(), "loop", "ext4", "xfs", "dm_mod", "dm_thin_pool", "dm_snapshot", "dm_bufio", "dm_persistent_data")
	var have []string
	for _, m := range mods {
		if a.HasModule(m) || contains(DriverModules(), m) {
			have = append(have, m)
		}
	}
	res := RunTest(t, Config{
		Disks: []Disk{
			{Kind: SATA, Serial: "EOSPLVM1", Size: 512 << 20},
			{Kind: SATA, Serial: "EOSPLVM2", Size: 512 << 20},
			{Kind: SATA, Serial: "EOSCSIL1", Size: 1 << 30},
			{Kind: SATA, Serial: "EOSCSIL2", Size: 1 << 30},
		},
		Modules:   have,
		MemoryMiB: 1536,
		Timeout:   25 * time.Minute,
		Files:     []File{{Src: pbin, Dst: "/usr/local/bin/pluginlvm.test"}, {Src: cbin, Dst: "/usr/local/bin/csi.test"}},
		Tools: []string{"lvm", "dmsetup", "thin_check", "thin_dump", "thin_repair", "mkfs.ext4", "mke2fs", "mkfs.xfs",
			"xfs_growfs", "e2fsck", "resize2fs", "mount", "umount", "losetup"},
		Script: `set -e
` + guestLVMConf + `set -- $(for d in /sys/block/sd*; do echo /dev/${d##*/}; done)
EOS_STORAGE_STRICT=1 EOS_STORAGE_PLUGIN_LVM="$1,$2" /usr/local/bin/pluginlvm.test -test.run '^TestGuestConformance$' -test.v -test.count=1 || echo "pluginlvm exit $?"
EOS_STORAGE_STRICT=1 EOS_STORAGE_CSI_LVM="$3,$4" /usr/local/bin/csi.test -test.run '^TestGuestSanityLVMThin$' -test.v -test.count=1 -test.timeout 20m || echo "csi exit $?"
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	for _, want := range []string{"--- PASS: TestGuestConformance", "--- PASS: TestGuestSanityLVMThin"} {
		if !strings.Contains(out, want) {
			t.Errorf("the guest did not print %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", res.Stderr)
	}
}
