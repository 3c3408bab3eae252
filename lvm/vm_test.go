package lvm

// The VM tier (device-mapper): in a QEMU guest, lvm (the host's, copied
// in) activates a linear and a striped LV on two SATA disks and a thin pool
// with a thin LV on a third, and this package's own test binary (built with
// CGO_ENABLED=0) runs TestGuestDeviceMapper there: the on-disk inventory
// with device-mapper state read by ioctl must equal lvs on every compared
// field (active state and kernel major:minor included), the thin VG must be
// refused as unsupported and ReadOrRun must fall back to fullreport, and
// the thin pool's status line read by DM_TABLE_STATUS must give lvs's
// data and metadata percent. Needs root and the VM assets (see
// internal/vmtest): go test -race ./lvm -run VM.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/dmioctl"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/vmtest"
)

const guestEnv = "EOS_STORAGE_LVM_GUEST"

const vmScript = `set -e
export LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p /etc/lvm
cat >/etc/lvm/lvm.conf <<'CONF'
devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { notify_dbus = 0 thin_check_executable = "" }
activation { udev_sync = 0 udev_rules = 0 }
backup { backup = 0 archive = 0 }
CONF
set -- $(for d in /sys/block/sd*; do echo /dev/${d##*/}; done)
lvm pvcreate -q -y "$1" "$2" "$3" >&2
lvm vgcreate -q --addtag g1 vg-g+1 "$1" "$2" >&2
lvm lvcreate -q -y -L 40M -n lin.a vg-g+1 "$1" "$2" >&2
lvm lvcreate -q -y -i2 -I64k -L 16M -n str_b vg-g+1 >&2
lvm vgcreate -q thin.vg "$3" >&2
lvm lvcreate -q -y -L 32M -T thin.vg/pool >&2
lvm lvcreate -q -y -V 64M -T thin.vg/pool -n thin >&2
dd if=/dev/urandom of=/dev/thin.vg/thin bs=1M count=5 conv=fsync 2>/dev/null
echo "disks $1 $2 $3"
EOS_STORAGE_LVM_GUEST="$1,$2,$3" /usr/local/bin/lvm.test -test.run '^TestGuestDeviceMapper$' -test.v -test.count=1
`

func TestVMDeviceMapperInventory(t *testing.T) {
	testenv.RequireRoot(t)
	vmtest.Require(t)
	bin := buildTestBinary(t)
	res := vmtest.RunTest(t, vmtest.Config{
		Disks: []vmtest.Disk{
			{Kind: vmtest.SATA, Serial: "EOSLVM01", Size: 64 << 20},
			{Kind: vmtest.SATA, Serial: "EOSLVM02", Size: 64 << 20},
			{Kind: vmtest.SATA, Serial: "EOSLVM03", Size: 128 << 20},
		},
		Modules: append(vmtest.DriverModules(), "dm_mod", "dm_thin_pool"),
		Files:   []vmtest.File{{Src: bin, Dst: "/usr/local/bin/lvm.test"}},
		Tools:   []string{"lvm"},
		Script:  vmScript,
	})
	out := string(res.Stdout)
	t.Logf("guest:\n%s", out)
	if !strings.Contains(out, "--- PASS: TestGuestDeviceMapper") || strings.Contains(out, "--- SKIP") {
		t.Fatalf("the guest test did not pass:\n%s\n%s", out, res.Stderr)
	}
}

// buildTestBinary builds this package's tests as a static binary.
func buildTestBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	out := filepath.Join(t.TempDir(), "lvm.test")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "test", "-c", "-o", out, ".")
	cmd.Dir = filepath.Dir(file)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, b)
	}
	return out
}

// TestGuestDeviceMapper runs only inside the guest (guestEnv names the
// three disks).
func TestGuestDeviceMapper(t *testing.T) {
	disks := strings.Split(os.Getenv(guestEnv), ",")
	if len(disks) != 3 {
		t.Skipf("runs in the VM tier's guest (%s unset)", guestEnv)
	}
	ctx := context.Background()
	// 1. Linear and striped, active: equal to lvs, kernel columns included.
	want := oracleRows(t, []string{"--devices", disks[0] + "," + disks[1], "--config", "log{report_command_log=0}"})
	got, err := ReadDisks(ctx, disks[:2])
	if err != nil {
		t.Fatal(err)
	}
	n, f := compareRows(t, "disk+dm", flatten(got), want)
	t.Logf("disk+dm: %d fields compared, %d mismatches", f, n)
	if n != 0 {
		t.Fatalf("%d mismatches", n)
	}
	lin := got.LV("vg-g+1", "lin.a")
	if lin == nil || !lin.Attr.Active() || lin.KernelMajor <= 0 {
		t.Fatalf("lin.a: %+v", lin)
	}
	var st unix.Stat_t
	if err := unix.Stat("/dev/mapper/"+DMName("vg-g+1", "lin.a"), &st); err != nil {
		t.Fatal(err)
	}
	if got.ByDevNum(int(unix.Major(st.Rdev)), int(unix.Minor(st.Rdev))) != lin {
		t.Fatalf("the dm node %d:%d does not join with lin.a", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}

	// 2. Thin: the reader refuses, ReadOrRun falls back and says why.
	if _, err := ReadDisks(ctx, disks[2:]); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("thin VG: %v", err)
	}
	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	tl, err := NewTool(x, WithDevices(disks[2]))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadOrRun(ctx, tl, disks[2:])
	if err != nil || r.Source != "fullreport" || !strings.Contains(r.Fallback, "thin") {
		t.Fatalf("fallback: %v %+v", err, r)
	}
	pool := r.LV("thin.vg", "pool")
	if pool == nil || !pool.Attr.ThinPool() || pool.DataPercent <= 0 {
		t.Fatalf("pool: %+v", pool)
	}

	// 3. The pool's status by ioctl gives lvs's percentages.
	c, err := dmioctl.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.TableStatus(DMName("thin.vg", "pool")+"-tpool", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Targets) != 1 || s.Targets[0].Type != "thin-pool" {
		t.Fatalf("tpool status %+v", s)
	}
	data, meta, err := ThinPoolUsage(s.Targets[0].Params)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("thin pool by ioctl: data %.2f%% metadata %.2f%%; lvs: %.2f%% %.2f%% (%q)", data, meta, pool.DataPercent, pool.MetadataPercent, s.Targets[0].Params)
	if g, w := fmt.Sprintf("%.2f", data), strconv.FormatFloat(pool.DataPercent, 'f', 2, 64); g != w {
		t.Errorf("data percent by ioctl %s, lvs %s (%q)", g, w, s.Targets[0].Params)
	}
	if g, w := fmt.Sprintf("%.2f", meta), strconv.FormatFloat(pool.MetadataPercent, 'f', 2, 64); g != w {
		t.Errorf("metadata percent by ioctl %s, lvs %s (%q)", g, w, s.Targets[0].Params)
	}
}
