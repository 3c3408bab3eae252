package bpflat

import (
	"os"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// Every operation has its own histograms: a discard (blkdiscard, which
// the loop device turns into a hole punched in its tmpfs file) and a flush
// (fsync of the device: loop devices have a write cache) are measured as
// Discard and Flush, next to the write before the flush.
func TestDiscardAndFlush(t *testing.T) {
	requireBPF(t)
	testenv.RequireTool(t, "blkdiscard")
	dev, _ := shmLoop(t, 16<<20)
	name := loopName(dev)
	c, err := New(WithDeviceFilter(func(n string) bool { return n == name }))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testenv.Run(t, "blkdiscard", "-o", "0", "-l", "1048576", dev)
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 4096), 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	ss, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	got := map[latency.Op]uint64{}
	for _, s := range ss {
		if s.Stage == latency.Total {
			got[s.Op] += s.Hist.Count()
		}
		if s.Device != name {
			t.Errorf("a series of %s, filtered out", s.Device)
		}
	}
	st, _ := c.Stats()
	t.Logf("total-stage requests by op: %v; stats %+v", got, st)
	for _, op := range []latency.Op{latency.Discard, latency.Write, latency.Flush} {
		if got[op] == 0 {
			t.Errorf("no %s measured: %v", op, got)
		}
	}
}
