package vmtest

import (
	"strings"
	"testing"
)

// The host drops CAP_SYS_RESOURCE, so EXT4_IOC_RESIZE_FS is EPERM there and
// fsys's test can only check the typed error. The guest runs as full root:
// the same test (fsys.TestOnlineGrowExt4, built for the guest) takes its
// other branch there: mkfs.ext4 on a loop device, mount, grow from 256 MiB
// to 512 MiB by fsys's onlineResize, check the block count in the
// superblock and statfs, unmount, e2fsck -fn clean, remount and verify the
// file's checksum.
func TestGuestExt4OnlineGrow(t *testing.T) {
	Require(t)
	bin := guestTestBinary(t, "./fsys", "fsys.test")
	res := RunTest(t, Config{
		Modules: append(DriverModules(), "loop", "ext4"),
		Files:   []File{{Src: bin}},
		Tools:   []string{"losetup", "mkfs.ext4", "e2fsck", "umount"},
		Script: `set -e
grep CapEff /proc/self/status
EOS_STORAGE_STRICT=1 fsys.test -test.run '^TestOnlineGrowExt4$' -test.v
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	if !strings.Contains(out, "--- PASS: TestOnlineGrowExt4") || !strings.Contains(out, "grew online to 131072 blocks") {
		t.Errorf("the guest did not grow ext4 online:\n%s\n%s", out, res.Stderr)
	}
}
