package vmtest

import (
	"strings"
	"testing"
)

// The guest has what the host lacks: device-mapper. LVM (the host's lvm,
// copied in with its libraries) activates a linear LV, a thin pool, a thin
// LV and a snapshot there, and the kernel's dm tables show them. This is
// what the lvm package's thin-pool and snapshot tests rely on.
func TestBootDeviceMapper(t *testing.T) {
	res := RunTest(t, Config{
		Disks:   []Disk{{Kind: SATA, Serial: "EOSDM01", Size: 256 << 20}},
		Modules: append(DriverModules(), "dm_mod", "dm_thin_pool", "dm_snapshot"),
		Tools:   []string{"lvm", "dmsetup"},
		// No udev in the guest: lvm must create the /dev nodes itself.
		// thin_check is not copied in, so the pool is activated without it.
		Script: `set -e
export LVM_SUPPRESS_FD_WARNINGS=1
cfg='activation { udev_sync = 0 udev_rules = 0 } global { thin_check_executable = "" }'
dev=$(for d in /sys/block/sd*; do echo /dev/${d##*/}; done | head -n1)
lvm pvcreate -q --config "$cfg" "$dev" >&2
lvm vgcreate -q --config "$cfg" vg0 "$dev" >&2
lvm lvcreate -q --config "$cfg" -L 32M -n lin vg0 >&2
lvm lvcreate -q --config "$cfg" -L 64M -T vg0/pool >&2
lvm lvcreate -q --config "$cfg" -V 128M -T vg0/pool -n thin >&2
lvm lvcreate -q --config "$cfg" -s -L 8M -n snap vg0/lin >&2
dmsetup table | sort
echo ---
ls /dev/mapper | sort
`,
	})
	tables, nodes, _ := strings.Cut(string(res.Stdout), "---\n")
	for _, want := range []string{"vg0-lin: 0 65536 snapshot-origin", "vg0-pool-tpool:", " thin-pool ", "vg0-thin: 0 262144 thin ", "vg0-snap: 0 65536 snapshot "} {
		if !strings.Contains(tables, want) {
			t.Errorf("dm tables lack %q:\n%s", want, tables)
		}
	}
	for _, want := range []string{"control", "vg0-lin", "vg0-snap", "vg0-thin"} {
		if !strings.Contains(nodes, want+"\n") {
			t.Errorf("/dev/mapper lacks %s:\n%s", want, nodes)
		}
	}
}
