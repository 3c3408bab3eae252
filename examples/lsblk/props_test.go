package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// lsblk238Columns are the 64 columns of lsblk 2.38, in its -O order: ours
// without PARTN and DISK-SEQ (lsblk 2.39's).
func lsblk238Columns() string {
	var names []string
	for _, c := range columns {
		if c.name != "PARTN" && c.name != "DISK-SEQ" {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ",")
}

func TestColumnsOfLsblk238(t *testing.T) {
	if n := len(strings.Split(lsblk238Columns(), ",")); n != 64 {
		t.Errorf("%d columns of lsblk 2.38, want 64", n)
	}
	testenv.RequireTool(t, "lsblk")
	// lsblk knows every one of them.
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "lsblk", "--sysroot", dir, "-o", lsblk238Columns())
}

// propertyTree is a machine laid out like the dumps of util-linux's lsblk
// test suite: sysfs, and for every device a property file where its /dev
// node would be (udevadm info --query=property, then OWNER, GROUP and MODE),
// with what udev records on a real machine: full ATA model names with
// underscores and \x20-escaped, the disk's ID_PART_TABLE_* imported into
// its partitions, filesystem labels with spaces, ID_SERIAL listed before
// ID_SERIAL_SHORT and ID_WWN before ID_WWN_WITH_EXTENSION, empty values.
func propertyTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tr := blockdevtest.New(dir)
	tr.SATA("sda", 0, 0, 240*blockdevtest.GiB, "KINGSTON SH103S", "", false)
	tr.Set("sda", "device/model", "KINGSTON SH103S")
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1*blockdevtest.MiB, 512*blockdevtest.MiB)
	tr.AddPartition("sda", "sda2", 8, 2, 2, 513*blockdevtest.MiB, 64*blockdevtest.GiB)
	tr.AddPartition("sda", "sda3", 8, 3, 3, 65*blockdevtest.GiB, 16*blockdevtest.GiB)
	tr.DM(0, "vg0-root", "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 32*blockdevtest.GiB, "sda2")
	disk := []string{
		"ID_ATA=1", "ID_TYPE=disk", "ID_BUS=ata",
		"ID_MODEL=KINGSTON_SH103S3240G", `ID_MODEL_ENC=KINGSTON\x20SH103S3240G\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20`,
		"ID_REVISION=BBF0", "ID_SERIAL=KINGSTON_SH103S3240G_50026B724B09A1FF", "ID_SERIAL_SHORT=50026B724B09A1FF",
		"ID_WWN=0x50026b724b09a1ff", "ID_WWN_WITH_EXTENSION=0x50026b724b09a1ff0000",
		"ID_PART_TABLE_UUID=9c4a3c7e-5b7c-4c1e-9d3f-3f1d2b0e8a11", "ID_PART_TABLE_TYPE=gpt",
	}
	node := []string{"OWNER=root", "GROUP=disk", "MODE=brw-rw----"}
	part := func(n int, name string, extra ...string) []string {
		l := []string{"DEVNAME=/dev/" + name, "DEVTYPE=partition", fmt.Sprintf("PARTN=%d", n)}
		l = append(l, disk...)
		l = append(l, extra...)
		l = append(l, "ID_PART_ENTRY_SCHEME=gpt", fmt.Sprintf("ID_PART_ENTRY_NUMBER=%d", n), "ID_PART_ENTRY_DISK=8:0")
		return append(l, node...)
	}
	tr.PropertyFile("/dev/sda", append(append([]string{"DEVNAME=/dev/sda", "DEVTYPE=disk"}, disk...), node...)...)
	tr.PropertyFile("/dev/sda1", part(1, "sda1", "ID_FS_UUID=B4A2-1F3C", "ID_FS_UUID_ENC=B4A2-1F3C", "ID_FS_VERSION=FAT32",
		"ID_FS_TYPE=vfat", "ID_FS_USAGE=filesystem", `ID_PART_ENTRY_NAME=EFI\x20System\x20Partition`,
		"ID_PART_ENTRY_UUID=0b2f8a52-4f7a-4d49-9c0b-3c8a9e7d1a01", "ID_PART_ENTRY_TYPE=c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
		"ID_PART_ENTRY_FLAGS=0x1")...)
	tr.PropertyFile("/dev/sda2", part(2, "sda2", "ID_FS_UUID=FwkHPZ-7ERC-Vxob-651b-yeDw-JyRi-Ucd6rZ",
		"ID_FS_TYPE=LVM2_member", "ID_FS_VERSION=LVM2 001", "ID_FS_LABEL=",
		"ID_PART_ENTRY_UUID=0b2f8a52-4f7a-4d49-9c0b-3c8a9e7d1a02", "ID_PART_ENTRY_TYPE=e6d6d379-f507-44c2-a23c-238f2a3df928")...)
	tr.PropertyFile("/dev/sda3", part(3, "sda3", "ID_FS_LABEL=my data", `ID_FS_LABEL_ENC=my\x20data`,
		"ID_FS_UUID=7d0b6c86-6a35-4b59-8f8c-2d1b1d6b5a0e", "ID_FS_UUID_ENC=7d0b6c86-6a35-4b59-8f8c-2d1b1d6b5a0e",
		"ID_FS_TYPE=xfs", "ID_PART_ENTRY_UUID=0b2f8a52-4f7a-4d49-9c0b-3c8a9e7d1a03",
		"ID_PART_ENTRY_TYPE=0fc63daf-8483-4772-8e79-3d69d8477de4")...)
	tr.PropertyFile("/dev/mapper/vg0-root", "DM_NAME=vg0-root", "DM_VG_NAME=vg0", "DM_LV_NAME=root",
		"ID_FS_UUID=2a7e4c1b-0d9f-4e8a-b6c3-5f1e9d2c7b40", "ID_FS_UUID_ENC=2a7e4c1b-0d9f-4e8a-b6c3-5f1e9d2c7b40",
		"ID_FS_VERSION=1.0", "ID_FS_TYPE=ext4", "ID_FS_USAGE=filesystem", "OWNER=root", "GROUP=disk", "MODE=brw-rw----")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDifferentialPropertyFiles: with --sysroot lsblk takes every udev
// property (FSTYPE, LABEL, UUID, PT*, PART*, MODEL, SERIAL, WWN) and the
// node's OWNER, GROUP and MODE from the device's property file; so do we,
// and all 64 of lsblk 2.38's columns print byte for byte the same, in every
// output mode.
func TestDifferentialPropertyFiles(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	t.Setenv("LC_ALL", "C")
	dir := propertyTree(t)
	all := lsblk238Columns()
	for _, mode := range [][]string{nil, {"-b"}, {"-J"}, {"-J", "-b"}, {"-P"}, {"-r"}, {"-l"}} {
		args := append(append([]string{"--sysroot", dir}, mode...), "-o", all)
		want := string(testenv.Run(t, "lsblk", args...))
		var out, errb bytes.Buffer
		if rc := run(context.Background(), args, &out, &errb); rc != 0 {
			t.Fatalf("%v: exit %d: %s", args, rc, errb.String())
		}
		if got := out.String(); got != want {
			t.Errorf("lsblk %s -o (all):\n--- lsblk\n%s--- ours\n%s", strings.Join(mode, " "), want, got)
		}
	}
	// And what they say, in lsblk's words.
	got := decode(t, "ours", ours(t, "--sysroot", dir, "-J", "-o", "NAME,MODEL,SERIAL,WWN,PTTYPE,PTUUID,LABEL,PARTLABEL,PARTTYPENAME,PARTFLAGS,OWNER,GROUP,MODE"))
	sda := got.BlockDevices[0]
	for k, want := range map[string]any{"model": "KINGSTON_SH103S3240G", "serial": "KINGSTON_SH103S3240G_50026B724B09A1FF",
		"wwn": "0x50026b724b09a1ff", "pttype": "gpt", "owner": "root", "group": "disk", "mode": "brw-rw----"} {
		if sda[k] != want {
			t.Errorf("sda %s: %v, want %v", k, sda[k], want)
		}
	}
	p := kids(sda)
	if len(p) != 3 || p[0]["partlabel"] != "EFI System Partition" || p[0]["parttypename"] != "EFI System" ||
		p[0]["partflags"] != "0x1" || p[0]["ptuuid"] != "9c4a3c7e-5b7c-4c1e-9d3f-3f1d2b0e8a11" || p[2]["label"] != "my data" ||
		p[0]["model"] != nil {
		t.Errorf("partitions: %v", p)
	}
}
