package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	storage "github.com/CodeMonkeyCybersecurity/eos-storage"
)

// A blank 10 GiB disk (a hand-built inventory: no root needed) and a spec
// asking for a GPT, two partitions, ext4 and xfs, mounted: the plan's
// stages and reasons, as `storage plan` prints them.
func ExampleEngine_PlanFor() {
	e, err := storage.New()
	if err != nil {
		panic(err)
	}
	defer e.Close()
	inv := &storage.Inventory{Devices: []storage.Device{{Name: "sdb", Path: "/dev/sdb", Type: "disk", SizeBytes: 10 << 30, Serial: "SN-B"}}}
	spec := &storage.Spec{
		Disks:       []storage.DiskSpec{{ID: "b", Serial: "SN-B", Partitions: []storage.PartitionSpec{{Number: 1, SizeBytes: 4 << 30}, {Number: 2}}}},
		Filesystems: []storage.FilesystemSpec{{Device: "b#1", Type: "ext4"}, {Device: "b#2", Type: "xfs"}},
		Mounts:      []storage.MountSpec{{Device: "b#1", Target: "/srv/data"}},
	}
	p, err := e.PlanFor(context.Background(), inv, spec)
	if err != nil {
		panic(err)
	}
	p.WriteStages(os.Stdout)
	// Output:
	// stage 1:
	//   partition.write:/dev/sdb                 create a GPT; add partition 1; add partition 2
	// stage 2:
	//   fsys.mkfs:/dev/sdb1                      make ext4 on /dev/sdb1
	//   fsys.mkfs:/dev/sdb2                      make xfs on /dev/sdb2
	// stage 3:
	//   fsys.mount:/srv/data                     mount /dev/sdb1 (ext4) at /srv/data
}

// A spec that cannot hold is refused with every reason at once.
func ExampleRefusedError() {
	e, _ := storage.New()
	defer e.Close()
	inv := &storage.Inventory{Devices: []storage.Device{{Name: "sdb", Path: "/dev/sdb", Type: "disk", SizeBytes: 1 << 30}}}
	spec := &storage.Spec{
		Disks:       []storage.DiskSpec{{ID: "b", Path: "/dev/sdb", Partitions: []storage.PartitionSpec{{Number: 1, SizeBytes: 4 << 30}}}},
		Filesystems: []storage.FilesystemSpec{{Device: "/dev/sdc", Type: "ext4"}},
	}
	_, err := e.PlanFor(context.Background(), inv, spec)
	var re *storage.RefusedError
	if errors.As(err, &re) {
		for _, r := range re.Reasons {
			fmt.Println(r.Code)
		}
	}
	// Output:
	// too_big
	// not_found
}
