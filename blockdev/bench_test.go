package blockdev_test

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// versusLsblk times fn against exec'ing lsblk with args and decoding its
// JSON, interleaved (one lsblk run every fifth iteration) so that both see
// the same machine load. It reports two ratios: x_vs_lsblk, of the mean
// times, and x_vs_lsblk_median, of the median times. They differ because
// the Discover right after an lsblk run finds the CPU caches full of
// lsblk, and (on the test VMs) its second CPU asleep: lsblk runs on one
// CPU for 5 ms. The mean counts that against Discover, the median shows
// the typical call of each.
func versusLsblk(b *testing.B, fn func() error, args ...string) {
	b.Helper()
	testenv.RequireTool(b, "lsblk")
	var ours, anchor []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		ours = append(ours, time.Since(start))
		if len(ours)%5 == 1 {
			b.StopTimer()
			anchor = append(anchor, runLsblk(b, args))
			// The anchor's garbage (its decoded JSON) is collected
			// here, on neither clock, not during the next timed
			// Discover.
			runtime.GC()
			b.StartTimer()
		}
	}
	reportRatios(b, anchor, ours)
}

// versusLsblkIdle times single calls after the machine was idle, as a
// program that discovers now and then makes them: before each call of fn
// and each lsblk run (alternating one for one) the benchmark sleeps 5 ms.
func versusLsblkIdle(b *testing.B, fn func() error, args ...string) {
	b.Helper()
	testenv.RequireTool(b, "lsblk")
	const idle = 5 * time.Millisecond
	var ours, anchor []time.Duration
	for b.Loop() {
		b.StopTimer()
		time.Sleep(idle)
		b.StartTimer()
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		ours = append(ours, time.Since(start))
		b.StopTimer()
		time.Sleep(idle)
		anchor = append(anchor, runLsblk(b, args))
		runtime.GC()
		b.StartTimer()
	}
	reportRatios(b, anchor, ours)
}

// runLsblk runs lsblk, decodes its JSON and returns how long that took.
func runLsblk(b *testing.B, args []string) time.Duration {
	b.Helper()
	start := time.Now()
	out := testenv.Run(b, "lsblk", args...)
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// reportRatios reports how many times longer the anchor took than we did,
// by mean and by median times.
func reportRatios(b *testing.B, anchor, ours []time.Duration) {
	b.Helper()
	mean := func(d []time.Duration) float64 {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		return float64(sum) / float64(len(d))
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	b.ReportMetric(mean(anchor)/mean(ours), "x_vs_lsblk")
	b.ReportMetric(median(anchor)/median(ours), "x_vs_lsblk_median")
}

// BenchmarkDiscoverLive: Discover of this machine with the default
// attribute groups (AttrDefault), no signature probing (lsblk does not probe either: without
// udev it prints no signatures) and lsblk's default device set
// (WithDetachedLoops(false)), against `lsblk -J -O -b`, the anchor the issue
// names: the same devices on both sides, and every column Discover reads
// by default (lsblk -O also prints the groups the default leaves out:
// BenchmarkDiscoverLiveEvery reads those too).
//
// Where the time goes (doc.go, "Cost"): about 8 µs of kernel CPU to open,
// read and close each sysfs attribute, the same from C as from Go, some
// thirty attributes a disk. That floor, not Go, bounds this ratio:
// BenchmarkDiscoverLiveFloor (floor_test.go) replays this call's system
// calls with nothing else and reports the ratio that leaves.
func BenchmarkDiscoverLive(b *testing.B) {
	versusLsblk(b, discoverAsLsblk, "-J", "-O", "-b")
}

// discoverAsLsblk is Discover with the default attributes, no probing and
// lsblk's default device set.
func discoverAsLsblk() error {
	_, err := blockdev.Discover(context.Background(), blockdev.WithProbe(false), blockdev.WithDetachedLoops(false))
	return err
}

// BenchmarkDiscoverLiveEvery: Discover with every attribute group
// (AttrAll: also add_random, write-same, the zone limits, state,
// subsystems and the device nodes), what our lsblk -O reads, against the
// same `lsblk -J -O -b`, which prints all of them.
func BenchmarkDiscoverLiveEvery(b *testing.B) {
	ctx := context.Background()
	versusLsblk(b, func() error {
		_, err := blockdev.Discover(ctx, blockdev.WithProbe(false), blockdev.WithDetachedLoops(false),
			blockdev.WithAttributes(blockdev.AttrAll))
		return err
	}, "-J", "-O", "-b")
}

// BenchmarkDiscoverLiveIdle: the same comparison, one call of each at a
// time after 5 ms of idleness: the first call of a program that discovers
// now and then. Both find cold caches; Discover also finds its second CPU
// asleep, and on the test VMs the guest's scheduler then puts its helper
// on the caller's CPU most of the time.
func BenchmarkDiscoverLiveIdle(b *testing.B) {
	versusLsblkIdle(b, discoverAsLsblk, "-J", "-O", "-b")
}

// BenchmarkDiscoverLiveAll: the same devices on both sides. Discover lists
// every device and so does `lsblk -a`.
func BenchmarkDiscoverLiveAll(b *testing.B) {
	ctx := context.Background()
	versusLsblk(b, func() error {
		_, err := blockdev.Discover(ctx, blockdev.WithProbe(false))
		return err
	}, "-J", "-O", "-b", "-a")
}

// BenchmarkDiscoverLiveNoEmpty: the same devices on both sides, without the
// empty ones: WithEmpty(false) against `lsblk -A` (--noempty). On a machine
// with idle loop devices and an unused zram this is most of the difference
// between a full inventory and what a user looks at.
func BenchmarkDiscoverLiveNoEmpty(b *testing.B) {
	ctx := context.Background()
	versusLsblk(b, func() error {
		_, err := blockdev.Discover(ctx, blockdev.WithProbe(false), blockdev.WithEmpty(false))
		return err
	}, "-J", "-O", "-b", "-A")
}

// BenchmarkScannerLive: a Scanner's repeated Discover (every device, every
// attribute, the files kept open between calls) against `lsblk -J -O -b -a`,
// which lists the same devices.
func BenchmarkScannerLive(b *testing.B) {
	scannerVersusLsblk(b, []blockdev.Option{blockdev.WithProbe(false)}, "-J", "-O", "-b", "-a")
}

// BenchmarkScannerLiveDefault: a Scanner's repeated Discover with lsblk's
// default device set (WithDetachedLoops(false)) against `lsblk -J -O -b`,
// BenchmarkDiscoverLive's anchor: what a program that polls (an exporter,
// an inventory loop) gains over running lsblk each time.
func BenchmarkScannerLiveDefault(b *testing.B) {
	scannerVersusLsblk(b, []blockdev.Option{blockdev.WithProbe(false), blockdev.WithDetachedLoops(false)}, "-J", "-O", "-b")
}

// scannerVersusLsblk times the Discover of one Scanner made with opts
// against lsblk with args (versusLsblk).
func scannerVersusLsblk(b *testing.B, opts []blockdev.Option, args ...string) {
	b.Helper()
	s, err := blockdev.NewScanner(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	versusLsblk(b, func() error {
		_, err := s.Discover(ctx)
		return err
	}, args...)
}

// BenchmarkDiscoverLiveCore reads the core attributes only (what a
// preflight check or a tree of names, sizes and mounts needs) against
// `lsblk -J -b -o NAME,MAJ:MIN,SIZE,RO,RM,TYPE,MOUNTPOINTS`.
func BenchmarkDiscoverLiveCore(b *testing.B) {
	ctx := context.Background()
	versusLsblk(b, func() error {
		_, err := blockdev.Discover(ctx, blockdev.WithProbe(false), blockdev.WithAttributes(0))
		return err
	}, "-J", "-b", "-o", "NAME,MAJ:MIN,SIZE,RO,RM,TYPE,MOUNTPOINTS")
}

// BenchmarkDiscoverLiveProbe is the default Discover, which also reads every
// device's signatures (blkid's work, which lsblk here does not do).
func BenchmarkDiscoverLiveProbe(b *testing.B) {
	ctx := context.Background()
	versusLsblk(b, func() error {
		_, err := blockdev.Discover(ctx)
		return err
	}, "-J", "-O", "-b")
}

// workersVsSerial times Discover with two disk workers against one, in the
// same loop (alternate iterations), so both see the same machine load, and
// reports how many times faster the parallel read is.
func workersVsSerial(b *testing.B, opts ...blockdev.Option) {
	b.Helper()
	ctx := context.Background()
	var par, ser time.Duration
	var n int
	for b.Loop() {
		start := time.Now()
		if _, err := blockdev.Discover(ctx, append(opts, blockdev.WithDiskWorkers(2))...); err != nil {
			b.Fatal(err)
		}
		par += time.Since(start)
		b.StopTimer()
		start = time.Now()
		if _, err := blockdev.Discover(ctx, append(opts, blockdev.WithDiskWorkers(1))...); err != nil {
			b.Fatal(err)
		}
		ser += time.Since(start)
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(ser)/float64(par), "x_vs_serial")
	b.ReportMetric(float64(ser.Nanoseconds())/float64(n), "serial_ns/op")
}

// BenchmarkDiscoverLiveWorkers: two workers against one on this machine's
// dozen devices. This is why a few disks are read by one goroutine: on a
// busy machine a second worker descheduled by the kernel holds Discover back
// for a whole time slice, more than it could save.
func BenchmarkDiscoverLiveWorkers(b *testing.B) {
	workersVsSerial(b, blockdev.WithProbe(false))
}

// BenchmarkDiscoverManyWorkers: two workers against one on a fake tree of
// 2,000 devices (400 disks), where the work to share is large.
func BenchmarkDiscoverManyWorkers(b *testing.B) {
	dir := b.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "eos-blockdev-bench"); err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	if err := blockdevtest.Many(dir, 2000).Err(); err != nil {
		b.Fatal(err)
	}
	workersVsSerial(b, blockdev.WithRoot(dir))
}
