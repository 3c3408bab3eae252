package storage

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// fullViews is what Inventory's devices were before it read less: every
// device of a default Discover (all default attribute groups, every device
// read in full) through deviceView, and which of them are detached loop
// devices.
func fullViews(t *testing.T, opts ...blockdev.Option) ([]Device, map[string]bool) {
	t.Helper()
	g, err := blockdev.Discover(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out []Device
	detached := map[string]bool{}
	for _, d := range g.All() {
		out = append(out, deviceView(g, d))
		if d.Type == blockdev.TypeLoop && d.LoopBackingFile == "" && d.Size != nil && *d.Size == 0 {
			detached[d.Path] = true
		}
	}
	return out, detached
}

// asBrief is a full view of a detached loop device as Inventory has it:
// without rotational and ro, which the brief read leaves out (the driver's
// defaults or what the last bound file left).
func asBrief(views []Device, detached map[string]bool) []Device {
	out := append([]Device(nil), views...)
	for i := range out {
		if detached[out[i].Path] {
			out[i].Rotational, out[i].ReadOnly = nil, false
		}
	}
	return out
}

// TestInventoryDevicesAsFullDiscover: on a fake tree with detached, bound
// and empty-bound loop devices, a disk with a partition and a dm device on
// it, Inventory's devices are those of a full Discover, but for the
// rotational and ro of the detached loop devices. (Names that are no device
// of this machine: the table and LVM readers open /dev/NAME itself.)
func TestInventoryDevicesAsFullDiscover(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Loop(900, 0, "")
	tr.Loop(901, 0, "")
	tr.Set("loop901", "ro", "1")
	tr.Loop(902, 1<<20, "/img")
	tr.Loop(903, 0, "/empty.img")
	tr.Set("loop903", "size", "0")
	tr.SATA("sdzz", 0, 0, 1<<30, "M", "S", true)
	tr.AddPartition("sdzz", "sdzz1", 8, 1, 1, 1<<20, 1<<29)
	tr.DM(0, "vgzz-lv", "LVM-zz", 1<<20, "sdzz1")
	tr.Mount("sdzz1", "/srv/zz", "ext4")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	e, err := New(WithRoot(tr.Dir), WithRateInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	inv, err := e.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	views, detached := fullViews(t, blockdev.WithRoot(tr.Dir))
	if len(detached) != 2 {
		t.Fatalf("detached loop devices %v, want loop900 and loop901", detached)
	}
	if diff := cmp.Diff(asBrief(views, detached), inv.Devices); diff != "" {
		t.Errorf("Inventory's devices differ from a full Discover's (-full +inventory):\n%s", diff)
	}
	if d := inv.Device("/dev/loop901"); d == nil || d.ReadOnly || d.Rotational != nil {
		t.Errorf("loop901: %+v, want listed without ro and rotational", d)
	}
}

// TestInventoryDevicesAsFullDiscoverLive: the same on this machine, with
// probing (FSType): Inventory's devices are those of a full Discover before
// and after it, but for the rotational and ro of detached loop devices.
// Other tests bind, release and mount loop devices all the time: a try
// whose two full reads differ says nothing and is made again.
func TestInventoryDevicesAsFullDiscoverLive(t *testing.T) {
	testenv.RequireRoot(t)
	e, err := New(WithRateInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for try := range 20 {
		before, detached := fullViews(t)
		inv, err := e.Inventory(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		after, _ := fullViews(t)
		if !cmp.Equal(before, after) {
			continue
		}
		if diff := cmp.Diff(asBrief(before, detached), inv.Devices); diff != "" {
			t.Fatalf("Inventory's devices differ from a full Discover's (-full +inventory):\n%s", diff)
		}
		t.Logf("try %d: %d devices, %d detached loop devices", try+1, len(before), len(detached))
		return
	}
	testenv.Skip(t, "the machine's devices changed during each of twenty tries")
}
