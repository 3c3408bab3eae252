package blockdev_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// Ask for what the default leaves out: the devices' state, the subsystems
// on their sysfs paths and the request queue's zone limits (AttrAll asks
// for every group).
func ExampleWithAttributes() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		panic(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir),
		blockdev.WithAttributes(blockdev.AttrDefault|blockdev.AttrState|blockdev.AttrSubsystems|blockdev.AttrZones))
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"sda", "sdc", "nvme0n1", "dm-0"} {
		d, _ := g.ByName(name)
		state := d.State
		if d.DMSuspended != nil {
			state = fmt.Sprint("suspended=", *d.DMSuspended)
		}
		fmt.Println(d.Name, state, strings.Join(d.Subsystems, ":"), *d.ZoneSize, *d.MaxOpenZones)
	}
	// Output:
	// sda running block:scsi 0 0
	// sdc running block:scsi:usb 0 0
	// nvme0n1 live block:nvme 0 0
	// vg0-root suspended=false block 0 0
}

// A partition's table type and identifier are those of the table holding
// its entry: here from udev properties (a fake tree keeps them where
// lsblk --sysroot reads them), with the partition type's name.
func ExampleDevice_partitionTable() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	t := blockdevtest.New(dir)
	t.SATA("sda", 0, 0, 64*blockdevtest.GiB, "Example HDD", "", true)
	t.AddPartition("sda", "sda1", 8, 1, 1, blockdevtest.MiB, 512*blockdevtest.MiB)
	t.PropertyFile("/dev/sda", "ID_PART_TABLE_TYPE=gpt", "ID_PART_TABLE_UUID=9c4a3c7e-5b7c-4c1e-9d3f-3f1d2b0e8a11")
	t.PropertyFile("/dev/sda1", "ID_PART_ENTRY_SCHEME=gpt", "ID_PART_ENTRY_TYPE=c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
	if err := t.Err(); err != nil {
		panic(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		panic(err)
	}
	p, _ := g.ByName("sda1")
	fmt.Println(p.PTType, p.PTUUID)
	// Output:
	// gpt 9c4a3c7e-5b7c-4c1e-9d3f-3f1d2b0e8a11
}
