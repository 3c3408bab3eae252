package blockdevtest

import (
	"fmt"
	"strconv"
)

// The presets below build devices with the sysfs layout of the real driver:
// where the block directory hangs, what the device link points to, which
// subsystem links lie on the way, and the SCSI host class entries.

// SATA adds a disk sd<x> on an AHCI port: a SCSI device H:0:0:0 under an ata
// port, host H registered with proc_name "ahci". minor is 16 per disk (sda 0,
// sdb 16). Rotational disks spin (queue/rotational 1).
func (t *Tree) SATA(name string, host int, minor uint32, size uint64, model, serial string, rotational bool) string {
	hctl := fmt.Sprintf("%d:0:0:0", host)
	pci := "/sys/devices/pci0000:00/0000:00:1f.2"
	scsi := fmt.Sprintf("%s/ata%d/host%d/target%d:0:0/%s", pci, host+1, host, host, hctl)
	t.scsiDevice(scsi, host, "ahci", map[string]string{
		"model": model, "vendor": "ATA", "rev": "1.0", "type": "0", "state": "running",
		"wwid": "naa.5000c500" + fmt.Sprintf("%08x", host+1),
	})
	rot := "0"
	if rotational {
		rot = "1"
	}
	attrs := map[string]string{"queue/rotational": rot, "queue/nr_requests": "64"}
	dir := t.AddDisk(Disk{Name: name, Major: 8, Minor: minor, Size: size, Parent: scsi, Device: scsi, Attrs: attrs})
	if serial != "" {
		// The kernel shows no serial for SATA disks in sysfs: udev reads it
		// from ATA IDENTIFY. Put it where a real machine has it.
		t.Udev(name, map[string]string{"ID_SERIAL_SHORT": serial, "ID_MODEL": model, "ID_BUS": "ata",
			"DEVTYPE": "disk", "ID_WWN": "0x5000c500" + fmt.Sprintf("%08x", host+1)})
	}
	return dir
}

func (t *Tree) scsiDevice(dir string, host int, procName string, attrs map[string]string) {
	t.writeAttrs(dir, attrs)
	if t.err != nil {
		return
	}
	t.link(dir+"/subsystem", "/sys/bus/scsi")
	t.link("/sys/bus/scsi/devices/"+baseName(dir), dir)
	hn := "host" + strconv.Itoa(host)
	hostDir := t.hostDir(dir)
	if hostDir == "" {
		return
	}
	sh := hostDir + "/scsi_host/" + hn
	t.writeAttrs(sh, map[string]string{"proc_name": procName, "unique_id": strconv.Itoa(host + 1)})
	if _, err := lstat(t.Path("/sys/class/scsi_host/" + hn)); err != nil {
		t.link("/sys/class/scsi_host/"+hn, sh)
	}
}

// hostDir is the hostN directory above a SCSI device directory.
func (t *Tree) hostDir(dir string) string {
	for d := dir; d != "/" && d != "."; d = parentDir(d) {
		if b := baseName(d); len(b) > 4 && b[:4] == "host" {
			return d
		}
	}
	return ""
}

// NVMe adds namespace 1 of controller nvme<ctrl> (nvme<ctrl>n1, major 259,
// the extended dynamic range every NVMe namespace and partition uses).
func (t *Tree) NVMe(ctrl int, minor uint32, size uint64, model, serial string) string {
	c := fmt.Sprintf("/sys/devices/pci0000:00/0000:00:0%d.0/nvme/nvme%d", 4+ctrl, ctrl)
	t.writeAttrs(c, map[string]string{"model": model, "serial": serial, "firmware_rev": "1.0",
		"transport": "pcie", "state": "live"})
	t.link(c+"/subsystem", "/sys/class/nvme")
	name := fmt.Sprintf("nvme%dn1", ctrl)
	return t.AddDisk(Disk{Name: name, Major: 259, Minor: minor, Size: size, Dir: c + "/" + name, Device: c, Attrs: map[string]string{
		"wwid":                      fmt.Sprintf("eui.00253882%08x", ctrl),
		"ext_range":                 "0",
		"queue/scheduler":           "[none] mq-deadline",
		"queue/nr_requests":         "1023",
		"queue/discard_granularity": "512",
		"queue/discard_max_bytes":   "2199023255040",
	}})
}

// Virtio adds a virtio-blk disk vd<x> (major 254 here, as the kernel's
// dynamic major for virtblk usually is).
func (t *Tree) Virtio(name string, index int, minor uint32, size uint64) string {
	v := fmt.Sprintf("/sys/devices/pci0000:00/0000:00:0%d.0/virtio%d", 2+index, index+1)
	t.writeAttrs(v, map[string]string{"vendor": "0x1af4", "device": "0x0002", "features": "0"})
	t.link(v+"/subsystem", "/sys/bus/virtio")
	return t.AddDisk(Disk{Name: name, Major: 254, Minor: minor, Size: size, Parent: v, Device: v,
		Attrs: map[string]string{"queue/rotational": "1", "queue/nr_requests": "256", "queue/read_ahead_kb": "8192",
			"queue/physical_block_size": "4096", "queue/minimum_io_size": "4096", "queue/discard_granularity": "4096",
			"queue/discard_max_bytes": "1073741824", "serial": "virtio-serial"}})
}

// USB adds a removable USB stick: a SCSI disk behind usb-storage, with the
// usb bus on its path (which makes it hotplug).
func (t *Tree) USB(name string, host int, minor uint32, size uint64, vendor, model string) string {
	usb := "/sys/devices/pci0000:00/0000:00:14.0/usb1"
	port := usb + "/1-1"
	iface := port + "/1-1:1.0"
	for _, d := range []string{usb, port, iface} {
		t.mkdir(d)
		t.link(d+"/subsystem", "/sys/bus/usb")
	}
	hctl := fmt.Sprintf("%d:0:0:0", host)
	scsi := fmt.Sprintf("%s/host%d/target%d:0:0/%s", iface, host, host, hctl)
	t.scsiDevice(scsi, host, "usb-storage", map[string]string{
		"model": model, "vendor": vendor, "rev": "PMAP", "type": "0", "state": "running",
	})
	return t.AddDisk(Disk{Name: name, Major: 8, Minor: minor, Size: size, Parent: scsi, Device: scsi,
		Attrs: map[string]string{"removable": "1", "queue/rotational": "1", "queue/max_sectors_kb": "240"}})
}

// CDROM adds sr<n>: a SCSI peripheral of type 5 (rom) on a SATA port, with
// removable media.
func (t *Tree) CDROM(name string, host int, minor uint32, size uint64) string {
	hctl := fmt.Sprintf("%d:0:0:0", host)
	scsi := fmt.Sprintf("/sys/devices/pci0000:00/0000:00:1f.2/ata%d/host%d/target%d:0:0/%s", host+1, host, host, hctl)
	t.scsiDevice(scsi, host, "ahci", map[string]string{
		"model": "QEMU DVD-ROM", "vendor": "QEMU", "rev": "2.5+", "type": "5", "state": "running",
	})
	return t.AddDisk(Disk{Name: name, Major: 11, Minor: minor, Size: size, Parent: scsi, Device: scsi,
		Attrs: map[string]string{"removable": "1", "queue/rotational": "1", "queue/logical_block_size": "2048",
			"queue/physical_block_size": "2048", "queue/minimum_io_size": "2048", "queue/read_ahead_kb": "128"}})
}

// Loop adds loop<n> (major 7) backed by file. An empty file means a
// detached loop device: size 0 and no loop/ directory.
func (t *Tree) Loop(n int, size uint64, file string) string {
	name := "loop" + strconv.Itoa(n)
	attrs := map[string]string{"queue/scheduler": "[none] mq-deadline", "queue/nr_requests": "128",
		"queue/rotational": "1", "queue/discard_granularity": "4096", "queue/discard_max_bytes": "4294966784"}
	if file != "" {
		attrs["loop/backing_file"] = file
		attrs["loop/offset"] = "0"
		attrs["loop/sizelimit"] = "0"
		attrs["loop/autoclear"] = "0"
		attrs["loop/partscan"] = "0"
		attrs["loop/dio"] = "0"
	} else {
		size = 0
	}
	return t.AddDisk(Disk{Name: name, Major: 7, Minor: uint32(n), Size: size, Attrs: attrs})
}

// DM adds a device-mapper device dm-<n> (major 253) named name with dm uuid
// uuid ("LVM-..." for LVM, "CRYPT-LUKS2-..." for dm-crypt), stacked on lowers.
func (t *Tree) DM(n int, name, uuid string, size uint64, lowers ...string) string {
	kname := "dm-" + strconv.Itoa(n)
	dir := t.AddDisk(Disk{Name: kname, Major: 253, Minor: uint32(n), Size: size, Attrs: map[string]string{
		"dm/name": name, "dm/uuid": uuid, "dm/suspended": "0", "dm/use_blk_mq": "0",
		"queue/rotational":      "0",
		"queue/minimum_io_size": "512", "queue/read_ahead_kb": "128", "ext_range": "1",
	}})
	// A bio-based dm queue has no request queue depth, and its scheduler
	// file shows a bare "none" (Linux 6.1; later kernels hide the file).
	t.Set(kname, "queue/scheduler", "none").Remove(kname, "queue/nr_requests")
	for _, l := range lowers {
		t.Hold(kname, l)
	}
	t.Symlink("../"+kname, "/dev/mapper/"+name)
	return dir
}

// MD adds an md array md<n> (major 9) of the given level ("raid1") on lowers.
func (t *Tree) MD(n int, level string, size uint64, lowers ...string) string {
	kname := "md" + strconv.Itoa(n)
	dir := t.AddDisk(Disk{Name: kname, Major: 9, Minor: uint32(n), Size: size, Attrs: map[string]string{
		"md/level": level, "md/array_state": "clean", "md/raid_disks": strconv.Itoa(len(lowers)),
		"md/metadata_version": "1.2", "queue/rotational": "0", "ext_range": "1",
	}})
	t.Set(kname, "queue/scheduler", "none").Remove(kname, "queue/nr_requests")
	for _, l := range lowers {
		t.Hold(kname, l)
	}
	return dir
}
