package blockdev_test

import (
	"context"
	"errors"
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

// A device is known to be unused only when the graph read its mount and
// swap tables: here the mount table cannot be read, so /dev/sda1 shows no
// mountpoint, and Errs says that proves nothing.
func ExampleGraph_Errs() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		panic(err)
	}
	mi := dir + "/proc/self/mountinfo"
	os.Remove(mi)
	os.Mkdir(mi, 0o755) // reading a directory fails
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir), blockdev.WithAttributes(0))
	if err != nil {
		panic(err)
	}
	sda1, _ := g.ByPath("/dev/sda1")
	unused := len(g.InUse(sda1)) == 0 && len(g.Errs()) == 0
	fmt.Println("mountpoints:", sda1.MountPoints())
	fmt.Println("known unused:", unused)
	for _, e := range g.Errs() {
		fmt.Println("mount table unreadable:", errors.Is(e, blockdev.ErrMounts))
	}
	// Output:
	// mountpoints: []
	// known unused: false
	// mount table unreadable: true
}
