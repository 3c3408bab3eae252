package lvm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	lvm2 "github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// labConf keeps lvm from udev, dbus, dmeventd, lvmpolld and the machine's
// own backups (none of the daemons runs here; a thin LV's activation
// waits for dmeventd otherwise).
const labConf = `devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 md_component_detection = 0 multipath_component_detection = 0 }
global { notify_dbus = 0 use_lvmpolld = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
`

// lab is a journaled lvm Manager scoped to devs, with a private
// LVM_SYSTEM_DIR; dm false runs lvm without device-mapper.
type lab struct {
	tool *lvm2.Tool
	m    *lvm2.Manager
	j    *safety.Journal
}

func newLab(t *testing.T, devs []string, dm bool) *lab {
	t.Helper()
	sys := t.TempDir()
	if err := os.WriteFile(filepath.Join(sys, "lvm.conf"), []byte(labConf), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	opts := []lvm2.Option{lvm2.WithSystemDir(sys), lvm2.WithDevices(devs...)}
	if !dm {
		opts = append(opts, lvm2.WithoutDeviceMapper())
	}
	l := &lab{}
	if l.tool, err = lvm2.NewTool(x, opts...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if l.j, err = safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(t.TempDir())}, lvm2.RollForward(l.tool)...)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.j.Close() })
	fm, err := fsys.New(fsys.WithJournal(l.j))
	if err != nil {
		t.Fatal(err)
	}
	if l.m, err = lvm2.NewManager(l.tool, lvm2.WithJournal(l.j), lvm2.WithFsys(fm)); err != nil {
		t.Fatal(err)
	}
	return l
}

// do runs one lvm Manager operation.
func (l *lab) do(t *testing.T, op sched.Operation, err error) {
	t.Helper()
	if err == nil {
		_, err = plugin.Apply(context.Background(), nil, []sched.Operation{op})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// vg makes PVs of devs and VG name on them, removed at cleanup.
func (l *lab) vg(t *testing.T, name string, devs []string) {
	t.Helper()
	ctx := context.Background()
	for _, d := range devs {
		op, err := l.m.PVCreateOp(ctx, d)
		l.do(t, op, err)
	}
	op, err := l.m.VGCreateOp(ctx, name, devs, lvm2.VGOptions{})
	l.do(t, op, err)
	t.Cleanup(func() {
		_ = l.tool.Run(context.Background(), "vgremove", "-f", "-y", name)
		for _, d := range devs {
			_ = l.tool.Run(context.Background(), "pvremove", "-f", "-y", d)
		}
	})
}

// apply runs what a backend call returned.
func apply(ops []sched.Operation, err error) error {
	if err != nil {
		return err
	}
	_, err = plugin.Apply(context.Background(), nil, ops)
	return err
}
