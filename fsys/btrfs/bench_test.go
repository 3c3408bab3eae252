package btrfs

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// BenchmarkListSubvolumes lists 1,000 subvolumes (in 10 nested groups of
// 100) by ioctl and, in the same run, with `btrfs subvolume list` (the
// anchor), and reports how many times faster the ioctl listing is.
func BenchmarkListSubvolumes(b *testing.B) {
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
	subs, err := f.Subvolumes(ctx)
	if err != nil || len(subs) != 1000 {
		b.Fatalf("%d subvolumes, %v", len(subs), err)
	}
	// The anchor, timed over a few runs.
	const toolRuns = 5
	start := time.Now()
	for i := 0; i < toolRuns; i++ {
		out, err := exec.Command("btrfs", "subvolume", "list", tf.mnt).Output()
		if err != nil || strings.Count(string(out), "\n") != 1000 {
			b.Fatalf("btrfs subvolume list: %v (%d lines)", err, strings.Count(string(out), "\n"))
		}
	}
	tool := time.Since(start) / toolRuns
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := f.Subvolumes(ctx); err != nil {
			b.Fatal(err)
		}
	}
	mine := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(float64(tool)/float64(mine), "x-faster")
	b.ReportMetric(float64(tool.Microseconds()), "tool-us/op")
}
