package blockdev_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// lsblkAnchor runs the anchor a few times in the same process run and
// returns its mean time, so the ratio compares like with like on a noisy
// machine.
func lsblkAnchor(b *testing.B, runs int, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	for range runs {
		out := testenv.Run(b, "lsblk", args...)
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(runs)
}

// BenchmarkDiscoverLive: Discover of this machine (no signature probing,
// which lsblk does not do either without udev) against exec'ing
// `lsblk -J -O -b` and decoding its JSON.
func BenchmarkDiscoverLive(b *testing.B) {
	testenv.RequireTool(b, "lsblk")
	anchor := lsblkAnchor(b, 20, "-J", "-O", "-b")
	ctx := context.Background()
	n := 0
	start := time.Now()
	for b.Loop() {
		if _, err := blockdev.Discover(ctx, blockdev.WithProbe(false)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	ours := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_lsblk")
}

// BenchmarkDiscoverLiveCore reads the core attributes only (what a
// preflight check or a tree of names, sizes and mounts needs) against
// `lsblk -J -b -o NAME,MAJ:MIN,SIZE,RO,RM,TYPE,MOUNTPOINTS`.
func BenchmarkDiscoverLiveCore(b *testing.B) {
	testenv.RequireTool(b, "lsblk")
	anchor := lsblkAnchor(b, 20, "-J", "-b", "-o", "NAME,MAJ:MIN,SIZE,RO,RM,TYPE,MOUNTPOINTS")
	ctx := context.Background()
	n := 0
	start := time.Now()
	for b.Loop() {
		if _, err := blockdev.Discover(ctx, blockdev.WithProbe(false), blockdev.WithAttributes(0)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	ours := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_lsblk")
}

// BenchmarkDiscoverLiveProbe is the same with signature probing on (the
// default), which reads every device's first blocks.
func BenchmarkDiscoverLiveProbe(b *testing.B) {
	testenv.RequireTool(b, "lsblk")
	anchor := lsblkAnchor(b, 20, "-J", "-O", "-b")
	ctx := context.Background()
	n := 0
	start := time.Now()
	for b.Loop() {
		if _, err := blockdev.Discover(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	ours := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_lsblk")
}
