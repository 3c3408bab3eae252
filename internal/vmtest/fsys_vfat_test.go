package vmtest

import (
	"strings"
	"testing"
)

// The host kernel has no vfat driver, so fsys.TestVFATMounted can only
// check the typed refusal there. The guest's Debian kernel has it: the
// same test takes its mounted branch (mount, Inspect of the mount, freeze
// and online label refused as the Features matrix says, offline label,
// data intact, fsck.fat clean).
func TestGuestVFAT(t *testing.T) {
	Require(t)
	bin := guestTestBinary(t, "./fsys", "fsys.test")
	res := RunTest(t, Config{
		Modules: append(DriverModules(), "loop", "vfat", "nls_cp437", "nls_ascii", "nls_utf8", "nls_iso8859_1"),
		Files:   []File{{Src: bin}},
		Tools:   []string{"losetup", "mkfs.fat", "fsck.fat", "fatlabel"},
		Script: `set -e
EOS_STORAGE_STRICT=1 fsys.test -test.run '^TestVFATMounted$' -test.v
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	if !strings.Contains(out, "--- PASS: TestVFATMounted") || !strings.Contains(out, "guest: vfat mounted") {
		t.Errorf("the guest did not run the mounted vfat branch:\n%s\n%s", out, res.Stderr)
	}
}
