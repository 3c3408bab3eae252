package blockdevtest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// Build a small machine, break one attribute, and see discovery carry on.
func ExampleTree() {
	dir, _ := os.MkdirTemp("", "tree")
	defer os.RemoveAll(dir)
	t := blockdevtest.New(dir)
	t.NVMe(0, 0, 512*blockdevtest.GiB, "Example SSD", "SN123")
	t.AddPartition("nvme0n1", "nvme0n1p1", 259, 1, 1, blockdevtest.MiB, 100*blockdevtest.GiB)
	t.Mount("nvme0n1p1", "/data", "xfs")
	t.Set("nvme0n1", "queue/rotational", "maybe") // garbage, as a broken driver might write
	if err := t.Err(); err != nil {
		panic(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		panic(err)
	}
	disk, _ := g.ByName("nvme0n1")
	part, _ := g.ByName("nvme0n1p1")
	fmt.Println(disk.Model, disk.Serial, disk.Transport, *disk.Size)
	fmt.Println(part.MajMin, *part.Start, part.MountPoints())
	fmt.Println("rotational known:", disk.Rotational != nil)
	fmt.Println(disk.Errs[0])
	// Output:
	// Example SSD SN123 nvme 549755813888
	// 259:1 2048 [/data]
	// rotational known: false
	// blockdev: nvme0n1: queue/rotational: blockdev: syntax error: "maybe" is not 0 or 1
}

// Keep a device's udev properties where lsblk --sysroot reads them (the
// dumps of util-linux's lsblk tests do): Discover reads them too.
func ExampleTree_PropertyFile() {
	dir, _ := os.MkdirTemp("", "tree")
	defer os.RemoveAll(dir)
	t := blockdevtest.New(dir)
	t.SATA("sda", 0, 0, 64*blockdevtest.GiB, "KINGSTON SH103S", "", false)
	t.PropertyFile("/dev/sda", "ID_MODEL=KINGSTON_SH103S3240G", "ID_SERIAL_SHORT=50026B724B09A1FF",
		"OWNER=root", "GROUP=disk", "MODE=brw-rw----")
	if err := t.Err(); err != nil {
		panic(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		panic(err)
	}
	sda, _ := g.ByName("sda")
	fmt.Println(sda.Model, "|", sda.Udev["ID_MODEL"], "|", sda.Serial)
	// Output:
	// KINGSTON SH103S | KINGSTON_SH103S3240G | 50026B724B09A1FF
}
