package fsys

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// benchGrow alternates our ioctl grow and the tool's, each growing the same
// mounted filesystem by one step per iteration, and reports both costs and
// the ratio: the tool is a whole process (exec, its own geometry query,
// its ioctl), which is what EOS pays today.
func benchGrow(b *testing.B, dir string, start, step int64, ours func(size int64) error, theirs func(size int64)) (oursNs, theirsNs float64) {
	b.Helper()
	size := start
	var o, th time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		size += step
		t0 := time.Now()
		if err := ours(size); err != nil {
			b.Fatalf("ours to %d: %v", size, err)
		}
		t1 := time.Now()
		size += step
		theirs(size)
		th += time.Since(t1)
		o += t1.Sub(t0)
	}
	b.StopTimer()
	n := float64(b.N)
	return float64(o.Nanoseconds()) / n, float64(th.Nanoseconds()) / n
}

// benchMkfs is olMkfs on an image in /dev/shm when it exists: on a
// disk-backed loop device the kernel's synchronous log/transaction flush of
// each grow costs milliseconds for both sides alike and hides what the
// tool's process adds. Falls back to olMkfs.
func benchMkfs(b *testing.B, size int64, tool string, args ...string) string {
	b.Helper()
	testenv.RequireRoot(b)
	testenv.RequireTool(b, tool)
	dir, err := os.MkdirTemp("/dev/shm", "eos-fsys-bench-")
	if err != nil {
		return olMkfs(b, size, tool, args...)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		b.Fatal(err)
	}
	dev := testenv.LoopFile(b, img)
	testenv.Run(b, tool, append(append([]string{}, args...), dev)...)
	return dev
}

func report(b *testing.B, oursNs, theirsNs float64, metric string) {
	b.ReportMetric(oursNs, "ours_ns/op")
	b.ReportMetric(theirsNs, "tool_ns/op")
	b.ReportMetric(theirsNs/oursNs, metric)
}

// BenchmarkOnlineGrowXFS: XFS_IOC_FSGROWFSDATA by onlineResize vs
// `xfs_growfs -D N MNT`, 4 MiB a step. Run with -benchtime=200x or so: the
// 64 GiB sparse device has room for thousands of steps.
func BenchmarkOnlineGrowXFS(b *testing.B) {
	testenv.RequireTool(b, "xfs_growfs")
	dev := benchMkfs(b, 64<<30, "mkfs.xfs", "-f", "-q", "-d", "size=512m")
	dir := olMount(b, dev, XFS)
	bs := int64(xfsGeom(b, dir).Blocksize)
	ctx := context.Background()
	o, th := benchGrow(b, dir, 512<<20, 4<<20,
		func(size int64) error { return onlineResize(ctx, dir, XFS, size) },
		func(size int64) { testenv.Run(b, "xfs_growfs", "-D", strconv.FormatInt(size/bs, 10), dir) })
	report(b, o, th, "x_vs_xfs_growfs")
}

// BenchmarkOnlineGrowBtrfs: BTRFS_IOC_RESIZE by onlineResize (which also
// asks FS_INFO and DEV_INFO for the devid) vs `btrfs filesystem resize N
// MNT`, 4 MiB a step.
func BenchmarkOnlineGrowBtrfs(b *testing.B) {
	testenv.RequireTool(b, "btrfs")
	dev := benchMkfs(b, 64<<30, "mkfs.btrfs", "-f", "-q", "-b", "512m")
	dir := olMount(b, dev, Btrfs)
	ctx := context.Background()
	o, th := benchGrow(b, dir, 512<<20, 4<<20,
		func(size int64) error { return onlineResize(ctx, dir, Btrfs, size) },
		func(size int64) { testenv.Run(b, "btrfs", "filesystem", "resize", strconv.FormatInt(size, 10), dir) })
	report(b, o, th, "x_vs_btrfs_resize")
}
