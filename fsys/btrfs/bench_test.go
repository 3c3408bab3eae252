package btrfs

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkListSubvolumes lists 1,000 subvolumes (in 10 nested groups of
// 100) by ioctl and, in the same run, with `btrfs subvolume list` (the
// anchor), and reports how many times faster the ioctl listing is. The two
// are interleaved in rounds (one tool run, then a share of b.N listings),
// and the ratio reported is the median of the rounds' ratios, so a load
// spike on the shared machine hits both sides rather than one.
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
	benchInterleaved(b, func() {
		out, err := exec.Command("btrfs", "subvolume", "list", tf.mnt).Output()
		if err != nil || strings.Count(string(out), "\n") != 1000 {
			b.Fatalf("btrfs subvolume list: %v (%d lines)", err, strings.Count(string(out), "\n"))
		}
	}, func() {
		if _, err := f.Subvolumes(ctx); err != nil {
			b.Fatal(err)
		}
	})
}

// benchInterleaved times mine b.N times and the anchor tool a few times,
// interleaved in rounds, and reports the median of the rounds' ratios
// (x-faster) and the anchor's median time.
func benchInterleaved(b *testing.B, tool, mine func()) {
	b.Helper()
	rounds := min(b.N, 7)
	var ratios []float64
	var tools []time.Duration
	b.ResetTimer()
	done := 0
	for r := 0; r < rounds; r++ {
		b.StopTimer()
		start := time.Now()
		tool()
		t := time.Since(start)
		b.StartTimer()
		n := (b.N - done) / (rounds - r)
		start = time.Now()
		for i := 0; i < n; i++ {
			mine()
		}
		m := time.Since(start) / time.Duration(n)
		done += n
		ratios = append(ratios, float64(t)/float64(m))
		tools = append(tools, t)
	}
	b.StopTimer()
	slices.Sort(ratios)
	slices.Sort(tools)
	b.ReportMetric(ratios[len(ratios)/2], "x-faster")
	b.ReportMetric(float64(tools[len(tools)/2].Microseconds()), "tool-us/op")
}
