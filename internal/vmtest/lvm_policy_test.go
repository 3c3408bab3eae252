package vmtest

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The thin-pool fill test (lvm.TestThinPoolPolicyFill, built for the
// guest): one boot, one 1 GiB disk. With the policy on, fio writes 256 MiB
// into a 512 MiB thin LV of a 64 MiB error-when-full pool and sees 0
// errors while the policy extends the pool from the VG's free space; with
// it off, the same fill on a second pool reproduces lvmthin(7)'s data
// space exhaustion (Data% 100, writes fail) and the watcher alerts.
func TestGuestThinPoolFill(t *testing.T) {
	Require(t)
	bin := guestTestBinary(t, "./lvm", "lvm.test")
	res := RunTest(t, Config{
		Disks:     []Disk{{Kind: SATA, Serial: "EOSPOL01", Size: 1 << 30}},
		Modules:   append(DriverModules(), "dm_mod", "dm_thin_pool"),
		Files:     []File{{Src: bin, Dst: "/usr/local/bin/lvm.test"}},
		Tools:     []string{"lvm", "thin_check", "fio"},
		MemoryMiB: 1536,
		Timeout:   5 * time.Minute,
		Script: `set -e
export LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p /etc/lvm
cat >/etc/lvm/lvm.conf <<'CONF'
devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { notify_dbus = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
disk=$(for d in /sys/block/sd*; do echo /dev/${d##*/}; done | head -n1)
EOS_STORAGE_STRICT=1 EOS_STORAGE_LVM_POLICY_GUEST="$disk" lvm.test -test.run '^TestThinPoolPolicyFill$' -test.v -test.count=1
`,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	if !strings.Contains(out, "--- PASS: TestThinPoolPolicyFill") {
		t.Fatalf("the guest test did not pass:\n%s\n%s", out, res.Stderr)
	}
	for _, re := range []string{`POLICY ON: fio error=0 total_err=0 wrote 256 MiB`, `POLICY OFF: fio error=\d+ total_err=\d+`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("guest output lacks %q", re)
		}
	}
}
