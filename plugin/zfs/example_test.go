package zfs_test

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/zfs"
)

// The backend on replayed OpenZFS output (testdata/openzfs): zvols are
// block volumes, filesystems directory volumes.
func Example() {
	ctx := context.Background()
	rp, err := command.ReplayDir("testdata/openzfs")
	if err != nil {
		panic(err)
	}
	b, err := zfs.New(rp)
	if err != nil {
		panic(err)
	}
	caps, _ := b.Capabilities(ctx)
	fmt.Println("block volumes:", caps.Can(plugin.TechBlock, plugin.ModeCreate))
	vols, _ := b.Volumes(ctx, "tank")
	for _, v := range vols {
		fmt.Println(v.ID, v.SizeBytes, v.Device+v.Path, "thin:", v.Thin)
	}
	// Output:
	// block volumes: true
	// tank/fs 4194304 /tank/fs thin: true
	// tank/zv 8388608 /dev/zvol/tank/zv thin: false
}
