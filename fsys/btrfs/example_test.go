package btrfs_test

import (
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// Decoding recorded tree-search results, as Subvolumes and Qgroups decode
// what the kernel returns: the root tree's ROOT_ITEM and ROOT_BACKREF items
// of a filesystem with home, home/alice, srv and a read-only snapshot of
// alice, and its quota tree with a 10 MiB limit on alice.
func Example() {
	raw, err := os.ReadFile("testdata/roottree.items")
	if err != nil {
		fmt.Println(err)
		return
	}
	items, err := btrfs.DecodeItems(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		switch it.Type {
		case fsioctl.BtrfsRootItemKey:
			r, err := btrfs.ParseRootItem(it.Data)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("subvolume %d: read-only %v, snapshot %v\n", it.ObjectID, r.ReadOnly(), r.ParentUUID.String() != "00000000-0000-0000-0000-000000000000")
		case fsioctl.BtrfsRootBackrefKey:
			ref, err := btrfs.ParseRootRef(it.Data)
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("  named %q in subvolume %d\n", ref.Name, it.Offset)
		}
	}
	raw, _ = os.ReadFile("testdata/quotatree.items")
	items, _ = btrfs.DecodeItems(raw)
	qs, err := btrfs.QgroupsFromItems(items)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, q := range qs {
		if q.MaxReferenced >= 0 {
			fmt.Printf("qgroup %s: %d bytes referenced of %d\n", q.ID, q.Referenced, q.MaxReferenced)
		}
	}
	// Output:
	// subvolume 256: read-only false, snapshot false
	//   named "home" in subvolume 5
	// subvolume 257: read-only false, snapshot false
	//   named "alice" in subvolume 256
	// subvolume 258: read-only false, snapshot false
	//   named "srv" in subvolume 5
	// subvolume 259: read-only true, snapshot true
	//   named "alice-monday" in subvolume 5
	// qgroup 0/257: 118784 bytes referenced of 10485760
}
