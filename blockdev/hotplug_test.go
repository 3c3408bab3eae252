package blockdev_test

import (
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// TestHotplugFromBusOnPath: lsblk's HOTPLUG for disks whose media are not
// removable comes from the buses on the device's path. The walk takes the
// subsystem of the disk's own device from the device link already read and
// skips the class directory ("block") between the disk and its device, so
// each case puts the hotplug bus at a different place on the path:
//   - a USB disk drive (removable 0): usb on the device's ancestors;
//   - an MMC card: mmc is the subsystem of the disk's device itself;
//   - a virtio disk: no hotplug bus anywhere on the path.
func TestHotplugFromBusOnPath(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.USB("sdc", 6, 32, 1<<30, "WD", "Elements")
	tr.Set("sdc", "removable", "0")
	card := "/sys/devices/platform/sdhci.0/mmc_host/mmc0/mmc0:0001"
	tr.WriteFile(card+"/type", "SD")
	tr.Symlink("../../../../../../bus/mmc", card+"/subsystem") // /sys/bus/mmc
	tr.AddDisk(blockdevtest.Disk{Name: "mmcblk0", Major: 179, Minor: 0, Size: 1 << 30, Parent: card, Device: card})
	tr.Virtio("vda", 0, 0, 1<<30)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	graphs := discoverBoth(t, tr.Dir)
	for name, want := range map[string]struct {
		hotplug bool
		tran    string
	}{
		"sdc":     {true, "usb"},
		"mmcblk0": {true, "mmc"},
		"vda":     {false, "virtio"},
	} {
		for who, g := range graphs {
			d, ok := g.ByName(name)
			if !ok {
				t.Fatalf("%s: %s not found", who, name)
			}
			if d.Hotplug == nil || *d.Hotplug != want.hotplug || d.Transport != want.tran {
				t.Errorf("%s: %s: hotplug %v transport %q, want %v %q", who, name, d.Hotplug, d.Transport, want.hotplug, want.tran)
			}
			if d.Removable == nil || *d.Removable {
				t.Errorf("%s: %s: removable %v, want false", who, name, d.Removable)
			}
		}
	}
}
