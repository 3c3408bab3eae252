package bpflat

import (
	"context"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// WithDeviceFilter filters in the kernel: a device it does not keep gets
// no histograms there at all, one it keeps is counted exactly, and a
// device that starts to match (here: attached after New) is counted from
// the next Collect on, not before.
func TestDeviceFilterInKernel(t *testing.T) {
	requireBPF(t)
	testenv.RequireTool(t, "dd")
	kept, keptNum := shmLoop(t, 16<<20)
	other, otherNum := shmLoop(t, 16<<20)
	var mu sync.Mutex
	names := map[string]bool{loopName(kept): true}
	c, err := New(WithDeviceFilter(func(n string) bool { mu.Lock(); defer mu.Unlock(); return names[n] }))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dd := func(dev string) {
		t.Helper()
		testenv.Run(t, "dd", "if="+dev, "of=/dev/null", "bs=4k", "count=100", "iflag=direct")
	}
	reads := func(dev string) (ours uint64, inKernel bool) {
		t.Helper()
		if err := c.Collect(context.Background(), &perf.Snapshot{}); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.LatencySeries() {
			if s.Device == loopName(dev) && s.Op == latency.Read {
				ours = s.Hist.Count()
			}
		}
		c.mu.Lock()
		raw, err := c.readKernel()
		c.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		num := keptNum
		if dev == other {
			num = otherNum
		}
		for _, rs := range raw {
			if rs.dev == num {
				inKernel = true
			}
		}
		return ours, inKernel
	}
	dd(kept)
	dd(other)
	if n, _ := reads(kept); n != 100 {
		t.Errorf("kept device: %d reads, want 100 (dd's)", n)
	}
	if n, in := reads(other); n != 0 || in {
		t.Errorf("filtered-out device: %d reads, histograms in the kernel %v", n, in)
	}
	// It starts to match: nothing counted until the next Collect sees it.
	mu.Lock()
	names[loopName(other)] = true
	mu.Unlock()
	dd(other)
	if n, _ := reads(other); n != 0 {
		t.Errorf("counted %d reads of a device before the filter kept it", n)
	}
	dd(other)
	if n, in := reads(other); n != 100 || !in {
		t.Errorf("after the filter kept it: %d reads (want 100), in the kernel %v", n, in)
	}
	// And stops matching: its histograms go, in the kernel too.
	mu.Lock()
	delete(names, loopName(other))
	mu.Unlock()
	if n, in := reads(other); n != 0 || in {
		t.Errorf("after the filter dropped it: %d reads, histograms in the kernel %v", n, in)
	}
	if n, _ := reads(kept); n != 100 {
		t.Errorf("kept device: %d reads, want 100", n)
	}
}
