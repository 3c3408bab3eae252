package blockdev_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// Discover a fake machine and print its device tree, as lsblk would.
func ExampleDiscover() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		panic(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		panic(err)
	}
	var show func(d *blockdev.Device, depth int)
	show = func(d *blockdev.Device, depth int) {
		fmt.Printf("%s%s %s %s %v\n", strings.Repeat("  ", depth), d.Name, d.MajMin, d.Type, d.MountPoints())
		for _, c := range g.Children(d) {
			show(c, depth+1)
		}
	}
	for _, r := range g.Roots() {
		if r.KName == "sda" || r.KName == "nvme0n1" {
			show(r, 0)
		}
	}
	// Output:
	// sda 8:0 disk []
	//   sda1 8:1 part [/boot/efi]
	//   sda2 8:2 part []
	//     md0 9:0 raid1 []
	//       vg0-root 253:0 lvm [/]
	//       vg0-swap 253:1 lvm [[SWAP]]
	// nvme0n1 259:0 disk []
	//   nvme0n1p1 259:1 part []
	//     vg1-data 253:3 lvm [/srv/my data]
	//   nvme0n1p2 259:2 part []
	//     luks-home 253:2 crypt [/home]
}

// Before touching a disk, ask what on it (or stacked on it) is in use.
func ExampleGraph_InUse() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		panic(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir), blockdev.WithAttributes(0))
	if err != nil {
		panic(err)
	}
	sdb, _ := g.ByPath("/dev/sdb")
	for _, d := range g.InUse(sdb) {
		fmt.Println(d.Path, d.MountPoints())
	}
	// Output:
	// /dev/mapper/vg0-root [/]
	// /dev/mapper/vg0-swap [[SWAP]]
	// /dev/mapper/vg1-data [/srv/my data]
}
