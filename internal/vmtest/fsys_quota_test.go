package vmtest

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The host kernel has no ext4 or xfs quotas (no CONFIG_QFMT_V2, no
// CONFIG_XFS_QUOTA), so fsys/quota's guest tests skip there. The guest's
// Debian kernel has both (quota_v2 and quota_tree as modules, xfs quota
// built into xfs.ko): one boot runs them under EOS_STORAGE_STRICT=1 —
// ext4 with user, group and project quotas and xfs with
// uquota,gquota,pquota: limits for 1,000 ids of each kind set and read
// back, List against repquota and xfs_quota (0 mismatches), grace times,
// EDQUOT for a non-root writer past its user limit and past a project
// directory's limit, the typed answers of a plain ext4 and xfs, Enable by
// tune2fs, project ids on ext4, the crash matrix of journaled limits,
// grace times and project ids (TestGuestCrashMatrix) — and the report benchmark, whose ratio is
// logged (the issue lets the VM tier report it instead of asserting).
func TestGuestQuota(t *testing.T) {
	Require(t)
	bin := guestTestBinary(t, "./fsys/quota", "quota.test")
	res := RunTest(t, Config{
		Modules:   append(DriverModules(), "loop", "ext4", "xfs", "quota_tree", "quota_v2"),
		Files:     []File{{Src: bin}},
		Tools:     []string{"losetup", "mount", "umount", "mkfs.ext4", "mkfs.xfs", "tune2fs", "dumpe2fs", "lsattr", "repquota", "setquota", "quotacheck", "xfs_quota"},
		MemoryMiB: 1536,
		Timeout:   6 * time.Minute, // the crash matrix re-execs the test binary ~100 times
		Script: `set -e
[ -e /etc/mtab ] || ln -s /proc/self/mounts /etc/mtab
EOS_STORAGE_STRICT=1 quota.test -test.run '^(TestGuestExt4Quotas|TestGuestXFSQuotas|TestExt4WithoutQuotas|TestXFSWithoutQuotas|TestEnableExt4Device|TestGuestCrashMatrix)$' -test.v || echo FAILED
EOS_STORAGE_STRICT=1 quota.test -test.run '^TestProjectIDs$/^ext4$' -test.v || echo FAILED
EOS_STORAGE_STRICT=1 quota.test -test.run '^$' -test.bench '^BenchmarkGuestReport$' -test.benchtime 20x
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	for _, want := range []string{
		"--- PASS: TestGuestExt4Quotas", "--- PASS: TestGuestXFSQuotas", "--- PASS: TestProjectIDs/ext4",
		"--- PASS: TestExt4WithoutQuotas", "--- PASS: TestXFSWithoutQuotas", "--- PASS: TestEnableExt4Device",
		"--- PASS: TestGuestCrashMatrix/ext4", "--- PASS: TestGuestCrashMatrix/xfs",
		"guest: ext4 uid 20001 past a 1 MiB user hard limit: errno=EDQUOT",
		"guest: ext4 uid 20002 past a 1 MiB project hard limit: errno=EDQUOT",
		"guest: xfs uid 20001 past a 1 MiB user hard limit: errno=EDQUOT",
		"guest: xfs uid 20002 past a 1 MiB project hard limit: errno=ENOSPC",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("guest output lacks %q\n%s", want, res.Stderr)
		}
	}
	if strings.Contains(out, "FAILED") {
		t.Errorf("a guest test failed")
	}
	if !regexp.MustCompile(`ext4 quotas vs repquota -v -u -g -P: \d+ user, \d+ group, \d+ project ids, 0 mismatches`).MatchString(out) {
		t.Errorf("ext4 differential not at 0 mismatches")
	}
	if !regexp.MustCompile(`xfs quotas vs xfs_quota report -ugp -b -i: \d+ user, \d+ group, \d+ project ids, 0 mismatches`).MatchString(out) {
		t.Errorf("xfs differential not at 0 mismatches")
	}
	for _, m := range regexp.MustCompile(`guest: bench (\w+) .* ratio ([0-9.]+)x`).FindAllStringSubmatch(out, -1) {
		t.Logf("quota report of 3,000 ids, %s: List %sx faster than the peer tool (target 10x; reported, not asserted)", m[1], m[2])
	}
	if n := strings.Count(out, "crash matrix: "); n < 60 {
		t.Errorf("%d crash matrix cells ran in the guest, want ext4 and xfs limits and grace of 3 kinds and ext4 project ids", n)
	}
	for _, m := range regexp.MustCompile(`guest: (\w+) root past a 1 MiB project hard limit: errno=(\w+)`).FindAllStringSubmatch(out, -1) {
		t.Logf("%s: root writing past a project hard limit: %s", m[1], m[2])
	}
}
