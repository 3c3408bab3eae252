package main

// The VM tier's differential: in a QEMU guest with real SATA, NVMe, SCSI,
// USB and virtio disks (the real drivers and their sysfs trees, which the
// host cannot show), a partition table the guest kernel parses, and a
// device-mapper device stacked on a partition, lsblk and our lsblk (built
// with CGO_ENABLED=0) print the same JSON for every shared column. Needs
// the VM tier (internal/vmtest): go test ./examples/lsblk -run VM as root.

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/vmtest"
)

const vmScript = `
set -e
printf 'label: gpt\nsize=8MiB, name=one\nsize=48MiB, name=two\n' | sfdisk -q /dev/sda
blockdev --rereadpt /dev/sda 2>/dev/null || true
i=0; while [ ! -e /sys/block/sda/sda2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
dmsetup create eoslin --noudevsync --table "0 8192 linear /dev/sda1 0"
# Without udev nobody makes /dev/mapper/eoslin, and lsblk 2.38 then leaves
# the device out altogether (we list it: it exists and holds sda1).
# LVM without udev: a 100M LV on sda2 (48M) and the whole virtio disk, so it
# has two parents; and a dm device whose uuid says crypt (the guest kernel
# has no dm-crypt module; lsblk and we both type by the uuid's prefix).
mkdir -p /run/lock/lvm /etc/lvm
C='devices { obtain_device_list_from_udev=0 } activation { udev_sync=0 udev_rules=0 }'
lvm pvcreate -q --config "$C" /dev/sda2 /dev/vda
lvm vgcreate -q --config "$C" vg0 /dev/sda2 /dev/vda
lvm lvcreate -q --config "$C" -Zn -L 100M -n lv0 vg0 /dev/sda2 /dev/vda
dmsetup create eoscrypt --noudevsync --uuid CRYPT-PLAIN-eoscrypt --table "0 4096 linear /dev/sda1 4096"
dmsetup mknodes
echo '### lsblk'
LC_ALL=C lsblk -J -b -o COLS
echo '### ours'
LC_ALL=C /usr/local/bin/eos-lsblk -J -b -o COLS
echo '### text lsblk'
LC_ALL=C lsblk -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,HCTL,TRAN,VENDOR,HOTPLUG
echo '### text ours'
LC_ALL=C /usr/local/bin/eos-lsblk -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,HCTL,TRAN,VENDOR,HOTPLUG
`

// vmDifferences are where lsblk 2.38 in a guest without udev lacks a fact.
func vmDifferences(key string, dev map[string]any, theirs, our any) string {
	switch {
	case key == "tran" && theirs == nil && our == "virtio":
		return "lsblk 2.38 has no virtio transport (added in 2.39); the subsystem link says virtio"
	case key == "tran" && theirs == "nvme" && our == nil && dev["type"] == "part":
		return "lsblk 2.38 guesses nvme for partitions from the name prefix"
	case key == "wwn" && theirs == nil && our != nil:
		return "lsblk 2.38 takes WWN only from udev (none in the guest); we read the wwid sysfs attribute"
	}
	return ""
}

func section(out []byte, name string) []byte {
	_, after, ok := bytes.Cut(out, []byte("### "+name+"\n"))
	if !ok {
		return nil
	}
	if i := bytes.Index(after, []byte("\n### ")); i >= 0 {
		return after[:i+1]
	}
	return after
}

func TestVMDifferential(t *testing.T) {
	vmtest.Require(t)
	bin := vmtest.BuildGoTest(t, "./examples/lsblk")
	cols := sharedDeviceColumns
	res := vmtest.RunTest(t, vmtest.Config{
		Disks: []vmtest.Disk{
			{Kind: vmtest.SATA, Model: "EOS LSBLK SATA", Serial: "EOSSATA01", Size: 96 << 20},
			{Kind: vmtest.NVMe, Serial: "EOSNVME01"},
			{Kind: vmtest.SCSI, Model: "EOS SCSI", Serial: "EOSSCSI01"},
			{Kind: vmtest.USB, Serial: "EOSUSB01"},
			{Kind: vmtest.Virtio, Serial: "EOSVIRTIO01"},
		},
		Files:   []vmtest.File{{Src: bin, Dst: "/usr/local/bin/eos-lsblk"}},
		Tools:   []string{"lsblk", "sfdisk", "dmsetup", "blockdev", "lvm"},
		Modules: append(vmtest.DriverModules(), "dm_mod"),
		Script:  strings.ReplaceAll(vmScript, "COLS", cols),
	})
	theirs := decode(t, "guest lsblk", section(res.Stdout, "lsblk"))
	our := decode(t, "guest ours", section(res.Stdout, "ours"))
	n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, vmDifferences, "")
	t.Logf("%d known differences, all lsblk's", n)
	if len(theirs.BlockDevices) < 5 {
		t.Errorf("guest lsblk listed %d devices, want the 5 disks", len(theirs.BlockDevices))
	}
	// What the guest must have shown, in our words: the LV under both its
	// PVs, and the three dm types.
	types := map[string][]string{}
	var walk func(l []map[string]any, parent string)
	walk = func(l []map[string]any, parent string) {
		for _, d := range l {
			name := fmt.Sprint(d["name"])
			types[name] = append(types[name], fmt.Sprint(d["type"])+"<"+parent)
			walk(kids(d), fmt.Sprint(d["kname"]))
		}
	}
	walk(our.BlockDevices, "")
	if got := fmt.Sprint(types["vg0-lv0"]); got != "[lvm<sda2 lvm<vda]" {
		t.Errorf("vg0-lv0 listed as %s, want an lvm volume under sda2 and vda", got)
	}
	if got := fmt.Sprint(types["eoscrypt"]); got != "[crypt<sda1]" {
		t.Errorf("eoscrypt listed as %s", got)
	}
	if got := fmt.Sprint(types["eoslin"]); got != "[dm<sda1]" {
		t.Errorf("eoslin listed as %s", got)
	}
	t.Logf("guest lsblk:\n%s\nours:\n%s", section(res.Stdout, "text lsblk"), section(res.Stdout, "text ours"))
}
