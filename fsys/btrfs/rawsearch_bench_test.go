package btrfs

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// BenchmarkRawRootSearch is the floor under BenchmarkListSubvolumes: the
// kernel's tree search of the same 1,000 subvolumes' items (2,990: root
// items, backrefs and the parents' refs) with nothing done with them, into
// one kept 256 KiB buffer, interleaved with `btrfs subvolume list` as
// BenchmarkListSubvolumes is. Its x-faster is the ceiling of any listing
// by tree search: on the 2-core test host about 1.1 ms against about 10 ms
// for a tool run, 6-9x (the kernel's copying of the items is two thirds of
// a listing's time; profile with -cpuprofile).
func BenchmarkRawRootSearch(b *testing.B) {
	tf := newTestFS(b, 1, 512<<20)
	ctx, f := ctxT(b), tf.fs
	for g := 0; g < 10; g++ {
		grp := fmt.Sprintf("g%d", g)
		if err := f.CreateSubvolume(ctx, grp); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 99; i++ {
			if err := f.CreateSubvolume(ctx, fmt.Sprintf("%s/s%d", grp, i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := f.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsRootTreeObjectID)
	key.MinObjectID, key.MaxObjectID = fsioctl.BtrfsFirstFreeObjectID, fsioctl.BtrfsLastFreeObjectID
	key.MinType, key.MaxType = fsioctl.BtrfsRootItemKey, fsioctl.BtrfsRootBackrefKey
	n := 0
	benchInterleaved(b, func() {
		if err := exec.Command("btrfs", "subvolume", "list", tf.mnt).Run(); err != nil {
			b.Fatal(err)
		}
	}, func() {
		n = 0
		if err := f.search(ctx, key, func(fsioctl.BtrfsSearchHeader, []byte) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(n), "items")
}
