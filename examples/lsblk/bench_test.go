package main

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkSysroot2000 runs our lsblk and util-linux lsblk on the same fake
// tree of 2,000 devices with the same columns, JSON in bytes, and reports
// how many times faster ours is (process start of lsblk included, as a user
// running either pays it).
func BenchmarkSysroot2000(b *testing.B) {
	testenv.RequireTool(b, "lsblk")
	dir := b.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "eos-lsblk-bench"); err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	if err := blockdevtest.Many(dir, 2000).Err(); err != nil {
		b.Fatal(err)
	}
	args := []string{"--sysroot", dir, "-J", "-b", "-o", sharedColumns}
	// Interleaved, so that both see the same machine load.
	var ours, anchor time.Duration
	n := 0
	ctx := context.Background()
	for b.Loop() {
		start := time.Now()
		if rc := run(ctx, args, io.Discard, io.Discard); rc != 0 {
			b.Fatalf("exit %d", rc)
		}
		ours += time.Since(start)
		b.StopTimer()
		start = time.Now()
		testenv.Run(b, "lsblk", args...)
		anchor += time.Since(start)
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(anchor)/float64(ours), "x_vs_lsblk_sysroot")
}
