package vmtest

import (
	"regexp"
	"strings"
	"testing"
)

// TestGuestStorageEngine boots one guest with a blank SATA disk and runs
// the root package's TestGuestLVMStack there (built for the guest): the
// Engine builds GPT -> PV -> VG -> thin pool -> LVs -> xfs/ext4 -> mounted
// from one spec, re-plans it empty, plans only the difference of a grown
// LV, and applies 8 independent LV+mkfs+mount chains with 8 workers and
// with one (the ratio is logged). Until the lvm lifecycle Manager is
// merged, the guest test skips with "lvm lifecycle not merged", and so
// does this one.
func TestGuestStorageEngine(t *testing.T) {
	Require(t)
	bin := guestTestBinary(t, ".", "storage.test")
	res := RunTest(t, Config{
		Disks:   []Disk{{Kind: SATA, Serial: "EOSENG01", Size: 2 << 30}},
		Modules: append(DriverModules(), "dm_mod", "dm_thin_pool", "xfs", "ext4"),
		Files:   []File{{Src: bin}},
		Tools:   []string{"lvm", "dmsetup", "mkfs.ext4", "mke2fs", "mkfs.xfs", "xfs_growfs", "e2fsck", "resize2fs"},
		Script: `set -e
export LVM_SUPPRESS_FD_WARNINGS=1
dev=$(for d in /sys/block/sd*; do echo /dev/${d##*/}; done | head -n1)
EOS_STORAGE_STRICT=1 EOS_STORAGE_ENGINE_DISK=$dev storage.test -test.run '^TestGuestLVMStack$' -test.v
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	if strings.Contains(out, "lvm lifecycle not merged") {
		t.Skip("lvm lifecycle not merged: the guest's Engine could plan but not run the LVM actions")
	}
	if !strings.Contains(out, "--- PASS: TestGuestLVMStack") {
		t.Fatalf("the guest's Engine did not build the stack:\n%s\n%s", out, res.Stderr)
	}
	if m := regexp.MustCompile(`parallel-ratio ([0-9.]+)`).FindStringSubmatch(out); m != nil {
		t.Logf("8 chains, 8 workers vs 1: %sx", m[1])
	}
}
