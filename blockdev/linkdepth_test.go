package blockdev

import "testing"

// TestLinkDepth pins how far above a disk's directory its device link
// points, for the layouts the kernel makes: hotplug's walk skips the
// directories below that depth and takes the subsystem at it from the
// device link, so an off-by-one here would read the wrong directory's bus.
func TestLinkDepth(t *testing.T) {
	for _, c := range []struct {
		sysPath, target string
		want            int
	}{
		// The device's directory, then the class directory block/.
		{"/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "../../../virtio1", 2},
		{"/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda", "../../../0:0:0:0", 2},
		{"/sys/devices/platform/sdhci.0/mmc_host/mmc0/mmc0:0001/block/mmcblk0", "../../../mmc0:0001", 2},
		// An NVMe namespace sits in its controller's directory.
		{"/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1", "../../nvme0", 1},
		// Not an ancestor, absolute, or nowhere: unknown, the whole walk.
		{"/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "../../../virtio2", 0},
		{"/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "/sys/devices/pci0000:00/0000:00:02.0/virtio1", 0},
		{"/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", ".", 0},
		{"/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "..", 1},
		{"/sys/block/vda", "../../devices/x", 0},
	} {
		if got := linkDepth(c.sysPath, c.target); got != c.want {
			t.Errorf("linkDepth(%q, %q) = %d, want %d", c.sysPath, c.target, got, c.want)
		}
	}
}
