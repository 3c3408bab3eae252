package lvm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// lab is a set of loop devices carrying VGs made with lvm itself, with a
// private LVM_SYSTEM_DIR and every command scoped by --devices, so neither
// lvm nor the test ever sees the machine's own VGs. Metadata only: the host
// has no device-mapper (--driverloaded n, -an, -Zn).
type lab struct {
	sysdir  string
	devices []string
	vg1     string
}

const labConf = `devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { notify_dbus = 0 }
activation { udev_sync = 0 udev_rules = 0 }
backup { backup = 0 archive = 0 }
`

// The names hold '+', '_', '.' and '-' (lvm doubles '-' in dm names).
const (
	labVG1 = "vg+a_b.c-d"
	labVG2 = "other_vg.2"
)

func newLab(t testing.TB) *lab {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lvm", "losetup")
	l := &lab{sysdir: t.TempDir(), vg1: labVG1}
	if err := os.WriteFile(filepath.Join(l.sysdir, "lvm.conf"), []byte(labConf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LVM_SYSTEM_DIR", l.sysdir)
	for _, size := range []int64{64 << 20, 64 << 20, 32 << 20, 32 << 20} {
		l.devices = append(l.devices, testenv.Loop(t, size))
	}
	d := l.devices
	devs := d[0] + "," + d[1] + "," + d[2] + "," + d[3]
	lvm := func(args ...string) {
		t.Helper()
		testenv.Run(t, "lvm", append([]string{args[0], "--devices", devs}, args[1:]...)...)
	}
	noDM := []string{"--driverloaded", "n", "-an", "-Zn", "-y", "-Wn"}
	lvm("pvcreate", "-y", d[0], d[1], d[2], d[3])
	lvm("vgcreate", "--addtag", "t1", "--addtag", "x.y", labVG1, d[0], d[1])
	lvm(append([]string{"lvcreate"}, append(noDM, "-i2", "-I64k", "-L", "16M", "-n", "str", "--addtag", "foo", labVG1)...)...)
	lvm(append([]string{"lvcreate"}, append(noDM, "-L", "80M", "-n", "lin", labVG1, d[0], d[1])...)...)
	lvm(append([]string{"lvcreate"}, append(noDM, "-L", "8M", "-n", "my-lv_1.x+y", "--addtag", "bar", "--addtag", "b_z", labVG1)...)...)
	lvm("vgcreate", labVG2, d[3])
	lvm(append([]string{"lvcreate"}, append(noDM, "-L", "4M", "-n", "solo", labVG2)...)...)
	lvm("pvchange", "--addtag", "pvtag", d[3])
	return l
}

// tool is a real lvm Tool for the lab, recording its runs into dir when
// dir is not empty.
func (l *lab) tool(t testing.TB, record string) *Tool {
	t.Helper()
	opts := []command.Option{}
	if record != "" {
		opts = append(opts, command.WithRecorder(record))
	}
	x, err := command.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := NewTool(x, WithSystemDir(l.sysdir), WithDevices(l.devices...), WithoutDeviceMapper())
	if err != nil {
		t.Fatal(err)
	}
	return tl
}
