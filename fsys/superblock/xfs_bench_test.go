package superblock

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// xfsBenchRead times open + read + close of dev per iteration and returns
// the median. The kernel drops a block device's page cache at its last
// close, so every iteration's reads are real I/O to the loop device: the
// time is the reads' latency, not our parsing (a 4 KiB crc32c is ~1µs).
// (posix_fadvise RANDOM on the descriptor made no measurable difference.)
func xfsBenchRead(b *testing.B, dev string, read func(f *os.File, size int64) error) time.Duration {
	b.Helper()
	var ds []time.Duration
	for b.Loop() {
		t0 := time.Now()
		f, err := os.Open(dev)
		if err != nil {
			b.Fatal(err)
		}
		size, err := f.Seek(0, 2)
		if err == nil {
			err = read(f, size)
		}
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) < 1<<16 {
			ds = append(ds, time.Since(t0))
		}
	}
	return xfsMedian(ds)
}

// xfsBenchTool runs the anchor tool n times as a whole process and
// returns the median wall time.
func xfsBenchTool(b *testing.B, n int, tool string, args ...string) time.Duration {
	b.Helper()
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		testenv.Run(b, tool, args...)
		ds = append(ds, time.Since(t0))
	}
	return xfsMedian(ds)
}

func xfsMedian(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func xfsReportRatio(b *testing.B, ours, tool time.Duration, unit string) {
	b.Helper()
	if ours <= 0 {
		return
	}
	b.ReportMetric(float64(tool)/float64(ours), unit)
	b.ReportMetric(float64(ours.Microseconds()), "ours_median_us")
	b.ReportMetric(float64(tool.Microseconds()), "tool_median_us")
}

// BenchmarkXFSVsXfsInfo: ReadXFS (superblock and log head) of a loop
// device against xfs_info on the same unmounted device.
func BenchmarkXFSVsXfsInfo(b *testing.B) {
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "mkfs.xfs", "xfs_info")
	dev := testenv.Loop(b, 300<<20)
	testenv.Run(b, "mkfs.xfs", "-q", "-f", dev)
	ours := xfsBenchRead(b, dev, func(f *os.File, size int64) error {
		_, err := ReadXFS(f, size)
		return err
	})
	xfsReportRatio(b, ours, xfsBenchTool(b, 21, "xfs_info", dev), "x_vs_xfs_info")
}

// BenchmarkBtrfsVsDumpSuper: ReadBtrfs (primary and mirror) of a loop
// device against btrfs inspect-internal dump-super.
func BenchmarkBtrfsVsDumpSuper(b *testing.B) {
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "mkfs.btrfs", "btrfs")
	dev := testenv.Loop(b, 300<<20)
	btrfsMkfs(b, dev)
	ours := xfsBenchRead(b, dev, func(f *os.File, size int64) error {
		_, err := ReadBtrfs(f, size)
		return err
	})
	xfsReportRatio(b, ours, xfsBenchTool(b, 21, "btrfs", "inspect-internal", "dump-super", dev), "x_vs_dump_super")
}
