package perf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func hasChange(cs []DeviceChange, name string, c Change) bool {
	for _, x := range cs {
		if x.Name == name && x.Change == c {
			return true
		}
	}
	return false
}

// On the real kernel: a partition added to a loop device appears without a
// since-boot spike, its I/O shows up in its rates, and when it is deleted it
// vanishes from the snapshot. The loop device's diskseq comes from sysfs.
func TestLiveDeviceLifecycle(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sfdisk", "partx", "dd")
	dev := testenv.Loop(t, 16<<20)
	name := filepath.Base(dev)
	part := name + "p1"

	c, err := NewDiskstatsCollector("", WithDeviceFilter(func(n string) bool { return strings.HasPrefix(n, name) }))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if seq, ok := c.diskseq(name); !ok || seq == 0 {
		t.Fatalf("no diskseq for %s", name)
	}
	collect := func() *Snapshot {
		t.Helper()
		var s Snapshot
		if err := c.Collect(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	collect()

	cmd := strings.NewReader("label: dos\nstart=2048, size=8192, type=83\n")
	if out, err := runStdin(cmd, "sfdisk", "-q", dev); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	testenv.Run(t, "partx", "-a", dev)
	if _, err := os.Stat("/sys/class/block/" + part); err != nil {
		t.Fatalf("partition not added: %v", err)
	}
	s := collect()
	if !hasChange(s.Changes, part, Appeared) {
		t.Fatalf("%s did not appear: %+v", part, s.Changes)
	}
	if d := s.Disk(part); d == nil || d.HasRates {
		t.Fatalf("new partition: %+v", d)
	}
	testenv.Run(t, "dd", "if=/dev/"+part, "of=/dev/null", "bs=4096", "count=256", "iflag=direct")
	s = collect()
	d := s.Disk(part)
	if d == nil || !d.HasRates || d.Rates.ReadsPerSec == 0 || d.Rates.ReadKBPerSec == 0 {
		t.Fatalf("partition rates: %+v", d)
	}
	testenv.Run(t, "partx", "-d", dev)
	s = collect()
	if s.Disk(part) != nil || !hasChange(s.Changes, part, Vanished) {
		t.Fatalf("%s did not vanish: %+v", part, s.Changes)
	}
}
