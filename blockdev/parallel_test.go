package blockdev_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// render writes down everything a Graph says, in its own order, so two
// graphs can be compared as text: each device's fields, errors, parents and
// children.
func render(g *blockdev.Graph) string {
	var b strings.Builder
	show := func(ds []*blockdev.Device) string {
		var n []string
		for _, d := range ds {
			n = append(n, d.KName+"="+d.MajMin.String())
		}
		return strings.Join(n, ",")
	}
	for _, d := range g.All() {
		c := *d
		errs := c.Errs
		c.Errs = nil
		fmt.Fprintf(&b, "%s %s %+v\n", d.KName, d.MajMin, deref(c))
		for _, e := range errs {
			fmt.Fprintf(&b, "  err %v\n", e)
		}
		fmt.Fprintf(&b, "  parents %s children %s\n", show(g.Parents(d)), show(g.Children(d)))
	}
	return b.String()
}

// deref spells out the pointer fields of a Device, which %+v prints as
// addresses.
func deref(d blockdev.Device) string {
	p := func(v any) string {
		switch x := v.(type) {
		case *uint64:
			if x != nil {
				return fmt.Sprint(*x)
			}
		case *int64:
			if x != nil {
				return fmt.Sprint(*x)
			}
		case *bool:
			if x != nil {
				return fmt.Sprint(*x)
			}
		default:
			return fmt.Sprint(v)
		}
		return "-"
	}
	return strings.Join([]string{d.Name, d.Path, d.SysPath, string(d.Type), p(d.Size), p(d.ReadOnly),
		p(d.Removable), p(d.Rotational), p(d.Hotplug), p(d.LogicalSectorSize), p(d.DiskSeq),
		p(d.PartNumber), p(d.Start), p(d.Alignment), d.Model, d.Serial, d.WWN, d.Transport, d.HCTL,
		d.Scheduler, d.DMName, d.MDLevel, d.LoopBackingFile, fmt.Sprint(d.Mounts), fmt.Sprint(d.Swap)}, " ")
}

// TestParallelReadIsSerialRead: disks read by several workers at once give
// the same graph as one after the other, even where the merge order
// matters: two devices with one number (the later one is rekeyed), devices
// without a number (keyed 0:N in name order), stacked devices.
func TestParallelReadIsSerialRead(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.Sample(t.TempDir())
	for i := range 40 {
		tr.Virtio(fmt.Sprintf("vd%c%c", 'b'+i/26, 'a'+i%26), i+1, uint32(16*(i+1)), 1<<30)
	}
	tr.Set("vdba", "dev", "8:0")     // sda's number
	tr.Set("vdbb", "dev", "garbage") // no number
	tr.Set("vdbc", "dev", "garbage")
	tr.Set("vdbd", "dev", "0:1") // the key the first unnumbered device would get
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	serial, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDiskWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	want := render(serial)
	if !strings.Contains(want, "is also the number of sda") {
		t.Fatal("the duplicate number was not noticed; the test tree is wrong")
	}
	for range 5 {
		g, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDiskWorkers(4))
		if err != nil {
			t.Fatal(err)
		}
		if got := render(g); got != want {
			t.Fatalf("parallel read differs from the serial one:\n--- parallel\n%s\n--- serial\n%s", got, want)
		}
	}
}

// TestDiscoverCancelled: a context cancelled before the read
// fails Discover and leaves no worker behind.
func TestDiscoverCancelled(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.Many(t.TempDir(), 30)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDiskWorkers(4)); err == nil {
		t.Error("a cancelled Discover succeeded")
	}
}

// TestDiscoverFailsEarlyNoHelperLeft: the first helper starts before
// /sys/block is listed; when the listing fails, Discover returns and no
// goroutine is left behind. (Cancelling while disks are read:
// TestDiskQueueCancelledAtEachDisk.)
func TestDiscoverFailsEarlyNoHelperLeft(t *testing.T) {
	defer goleak.VerifyNone(t)
	_, err := blockdev.Discover(context.Background(), blockdev.WithRoot(t.TempDir()), blockdev.WithDiskWorkers(2))
	if !errors.Is(err, blockdev.ErrNoDevices) {
		t.Errorf("no /sys/block: err = %v, want ErrNoDevices", err)
	}
}
