package bpflat

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// A loop device attached to another file is another device behind the
// same number (its diskseq changes): its histograms restart rather than
// adding the new device's requests to the old one's.
func TestReplacedDeviceRestarts(t *testing.T) {
	requireBPF(t)
	testenv.RequireTool(t, "losetup", "dd")
	dev, _ := shmLoop(t, 16<<20)
	name := loopName(dev)
	c, err := New(WithDeviceFilter(func(n string) bool { return n == name }), WithRevalidateEvery(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reads := func() uint64 {
		t.Helper()
		if err := c.Collect(context.Background(), &perf.Snapshot{}); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.LatencySeries() {
			if s.Op == latency.Read && s.Stage == latency.Total {
				return s.Hist.Count()
			}
		}
		return 0
	}
	dd := func(count string) {
		t.Helper()
		testenv.Run(t, "dd", "if="+dev, "of=/dev/null", "bs=4k", "count="+count, "iflag=direct")
	}
	dd("100")
	first := reads()
	if first < 100 {
		t.Fatalf("%d reads after dd count=100", first)
	}
	img := filepath.Join("/dev/shm", "eos-bpflat-other-"+name+".img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(img) })
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "losetup", "-d", dev)
	if _, err := testenv.RunErr("losetup", dev, img); err != nil {
		testenv.Skip(t, "could not reattach %s (taken meanwhile?): %v", dev, err)
	}
	reads() // notices the new diskseq and restarts the histograms
	dd("30")
	if got := reads(); got < 30 || got >= first {
		t.Fatalf("after the device was replaced: %d reads (the old device had %d)", got, first)
	}
}
